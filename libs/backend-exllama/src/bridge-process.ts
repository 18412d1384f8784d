/**
 * One long-lived Python bridge child per backend: spawned lazily without a shell, spoken to in JSON
 * lines, its stderr kept (a bounded tail) for error messages, killed on close. A child that dies
 * fails every request in flight with a typed error, and the next request spawns a new one.
 */
import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import {
  NerionError,
  describeError,
  serverText,
  terminalSafe,
  type NerionErrorCode,
  type SpawnFunction,
} from '@nerion/backend-core';
import * as v from 'valibot';
import {
  BRIDGE_SCRIPT_PATH,
  BridgeEventSchema,
  HelloSchema,
  type BridgeEvent,
  type BridgeHello,
  type BridgeOperation,
} from './bridge-protocol.js';

export interface BridgeProcessSettings {
  /** The Python interpreter (NERION_PYTHON; default `python3`). */
  python: string;
  /** The bridge script; default: the one shipped in this package. */
  scriptPath?: string;
  /** The child's whole environment; default: inherit this process's environment. */
  env?: Readonly<Record<string, string | undefined>>;
  spawn?: SpawnFunction;
  /** How long a cancelled generation may take to stop before the child is killed (default 1000 ms). */
  cancelGraceMs?: number;
}

interface PendingRequest {
  operation: BridgeOperation;
  onEvent(event: BridgeEvent): void;
  onExit(error: NerionError): void;
}

const STDERR_TAIL_CHARS = 4000;

export class BridgeProcess {
  private child: ChildProcess | undefined;
  private generation = 0;
  private helloPromise: Promise<BridgeHello> | undefined;
  private readonly pending = new Map<string, PendingRequest>();
  private lineBuffer = '';
  private stderrTail = '';
  private counter = 0;
  private exitWaiters: Array<() => void> = [];

  constructor(private readonly settings: BridgeProcessSettings) {}

  /** Increases with every spawned child: state tied to a child (a loaded model) compares it. */
  get childGeneration(): number {
    return this.generation;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** The last lines the bridge wrote to stderr (library warnings, tracebacks). */
  get stderr(): string {
    return this.stderrTail;
  }

  /** Spawns the child if needed and answers its hello (cached for the child's lifetime). */
  hello(): Promise<BridgeHello> {
    this.ensureChild();
    if (!this.helloPromise) {
      const promise = this.request('hello', {}).then((event) => {
        const parsed = v.safeParse(HelloSchema, event);
        if (!parsed.success) {
          throw new NerionError(
            'BINDINGS_UNAVAILABLE',
            `The exllamav2 bridge answered hello with an unexpected shape (${v.summarize(parsed.issues)}); reinstall @nerion/backend-exllama.`,
          );
        }
        return parsed.output;
      });
      // A failed hello is not cached: the next call tries again (on a new child if this one died).
      promise.catch(() => {
        if (this.helloPromise === promise) this.helloPromise = undefined;
      });
      this.helloPromise = promise;
    }
    return this.helloPromise;
  }

  /** Sends one request; resolves with its final event (ready/done), rejects on error or on the child's death. */
  request(
    operation: BridgeOperation,
    body: Record<string, unknown>,
    onIntermediate?: (event: BridgeEvent) => void,
  ): Promise<BridgeEvent> & { id: string } {
    this.ensureChild();
    const id = `${operation}-${++this.counter}`;
    const promise = new Promise<BridgeEvent>((resolve, reject) => {
      this.pending.set(id, {
        operation,
        onEvent: (event) => {
          if (event.event === 'delta') {
            onIntermediate?.(event);
            return;
          }
          this.pending.delete(id);
          if (event.event === 'error') reject(bridgeError(event));
          else resolve(event);
        },
        onExit: (error) => {
          this.pending.delete(id);
          reject(error);
        },
      });
      this.write({ id, op: operation, ...body });
    });
    return Object.assign(promise, { id });
  }

  /**
   * Stops a running request: events for it are dropped from now on, the bridge is told to cancel, and
   * the child is killed when the request has not finished within the grace period.
   */
  cancel(id: string): void {
    const request = this.pending.get(id);
    if (!request || !this.child) return;
    const child = this.child;
    const timer = setTimeout(() => {
      if (this.pending.has(id) && this.child === child) {
        this.stderrTail += `\n[nerion] the bridge did not stop request ${id} within ${this.grace} ms; killed it.`;
        child.kill('SIGKILL');
      }
    }, this.grace);
    timer.unref?.();
    this.pending.set(id, {
      ...request,
      onEvent: (event) => {
        if (event.event === 'delta') return;
        clearTimeout(timer);
        this.pending.delete(id);
      },
      onExit: () => {
        clearTimeout(timer);
        this.pending.delete(id);
      },
    });
    this.write({ id: `cancel-${++this.counter}`, op: 'cancel', target: id });
  }

  /** Asks the bridge to shut down, then kills it if it has not exited within the grace period. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => this.exitWaiters.push(resolve));
    this.write({ id: `shutdown-${++this.counter}`, op: 'shutdown' });
    child.stdin?.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), this.grace);
    timer.unref?.();
    await exited;
    clearTimeout(timer);
  }

  private get grace(): number {
    return this.settings.cancelGraceMs ?? 1000;
  }

  private ensureChild(): void {
    if (this.child) return;
    const spawn = this.settings.spawn ?? nodeSpawn;
    const script = this.settings.scriptPath ?? BRIDGE_SCRIPT_PATH;
    const options: SpawnOptions = { stdio: ['pipe', 'pipe', 'pipe'], shell: false, windowsHide: true };
    if (this.settings.env) options.env = { ...this.settings.env, PYTHONUNBUFFERED: '1' };
    const child = spawn(this.settings.python, ['-u', '-B', script], options);
    this.child = child;
    this.generation += 1;
    this.lineBuffer = '';
    this.stderrTail = '';
    this.helloPromise = undefined;
    let spawnError: Error | undefined;

    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => this.onStdout(chunk));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
    });
    // Writes to a child that just died fail with EPIPE; the exit handler reports the death itself.
    child.stdin?.on('error', (error) => {
      this.stderrTail += `\n[nerion] writing to the bridge failed: ${describeError(error)}`;
    });
    child.on('error', (error) => {
      spawnError = error;
      // 'exit' does not follow a failed spawn; 'close' does.
    });
    child.on('close', (code, signal) => this.onExit(child, code, signal, spawnError));
  }

  private onStdout(chunk: string): void {
    this.lineBuffer += chunk;
    let newline = this.lineBuffer.indexOf('\n');
    while (newline !== -1) {
      const line = this.lineBuffer.slice(0, newline).trim();
      this.lineBuffer = this.lineBuffer.slice(newline + 1);
      if (line) this.onLine(line);
      newline = this.lineBuffer.indexOf('\n');
    }
  }

  private onLine(line: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (error) {
      this.stderrTail += `\n[nerion] the bridge wrote a line that is not JSON (${describeError(error)}): ${line.slice(0, 200)}`;
      return;
    }
    const parsed = v.safeParse(BridgeEventSchema, raw);
    if (!parsed.success) {
      this.stderrTail += `\n[nerion] the bridge wrote an event of unexpected shape: ${line.slice(0, 200)}`;
      return;
    }
    const event = parsed.output;
    if (event.id === null) {
      // A protocol complaint not tied to a request: keep it for the next error message.
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- the bridge may send any JSON here; String() is what we show.
      this.stderrTail += `\n[bridge] ${String(event.message ?? line)}`;
      return;
    }
    const request = this.pending.get(event.id);
    if (request) request.onEvent(event);
  }

  private onExit(
    child: ChildProcess,
    code: number | null,
    signal: NodeJS.Signals | null,
    spawnError: Error | undefined,
  ): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.helloPromise = undefined;
    const error = this.exitError(code, signal, spawnError);
    for (const request of [...this.pending.values()]) request.onExit(error);
    this.pending.clear();
    for (const resolve of this.exitWaiters.splice(0)) resolve();
  }

  private exitError(code: number | null, signal: NodeJS.Signals | null, spawnError: Error | undefined): NerionError {
    const python = this.settings.python;
    if (spawnError) {
      const missing = (spawnError as NodeJS.ErrnoException).code === 'ENOENT';
      return new NerionError(
        'BINDINGS_UNAVAILABLE',
        missing
          ? `The Python interpreter \`${python}\` was not found — install Python 3 (3.8 or newer) or set NERION_PYTHON to its path; the exllamav2 backend runs through it.`
          : `Could not start the exllamav2 bridge with \`${python}\`: ${describeError(spawnError)} — check NERION_PYTHON.`,
        { cause: spawnError, data: { python }, fix: { settings: ['NERION_PYTHON'] } },
      );
    }
    const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
    // The bridge's output (exllamav2's and Python's words): escaped and bounded before it is printed.
    const tail = terminalSafe(this.stderrTail.trim().split('\n').slice(-6).join('\n').trim(), 2000);
    const inFlight = [...this.pending.values()].map((request) => request.operation);
    const during = inFlight.length > 0 ? ` during ${[...new Set(inFlight)].join('/')}` : '';
    const beforeHello = inFlight.includes('hello');
    const errorCode: NerionErrorCode = beforeHello ? 'BINDINGS_UNAVAILABLE' : 'BACKEND_ERROR';
    const advice = beforeHello
      ? `\`${python}\` could not run the bridge script — it needs Python 3.8 or newer (set NERION_PYTHON).`
      : 'The next request starts a new bridge.';
    return new NerionError(
      errorCode,
      `The exllamav2 bridge (${python}) ${how}${during}${tail ? `; its last output: ${tail}` : ''}. ${advice}`,
      {
        data: { python, exitCode: code, signal, stderr: this.stderrTail.slice(-2000) },
        ...(beforeHello ? { fix: { settings: ['NERION_PYTHON'] } } : {}),
      },
    );
  }

  private write(message: Record<string, unknown>): void {
    const stdin = this.child?.stdin;
    if (!stdin || stdin.destroyed || stdin.writableEnded) return;
    stdin.write(`${JSON.stringify(message)}\n`);
  }
}

function bridgeError(event: BridgeEvent): NerionError {
  const code = typeof event.code === 'string' && isNerionCode(event.code) ? event.code : 'BACKEND_ERROR';
  const message =
    typeof event.message === 'string' && event.message
      ? serverText(event.message)
      : 'The exllamav2 bridge reported an error without a message.';
  return new NerionError(code, message, { data: { bridgeCode: event.code } });
}

const BRIDGE_CODES: ReadonlySet<string> = new Set<NerionErrorCode>([
  'BACKEND_ERROR',
  'BINDINGS_UNAVAILABLE',
  'MODEL_NOT_FOUND',
  'MODEL_LOAD_FAILED',
  'INVALID_REQUEST',
  'INVALID_OUTPUT',
]);

function isNerionCode(code: string): code is NerionErrorCode {
  return BRIDGE_CODES.has(code);
}
