#!/usr/bin/env python3
"""nerion's exllamav2 bridge: JSON lines over stdio.

Spawned by @nerion/backend-exllama with the configured interpreter (NERION_PYTHON, default python3).
Every line on stdin is one request, every line on stdout one event; nothing else is ever written to
stdout (library output is redirected to stderr, which the Node side captures for error messages).

Requests:  {"id": str, "op": "hello" | "load" | "generate" | "cancel" | "shutdown", ...}
Events:    {"id": str, "event": "ready" | "delta" | "done" | "error", ...}

  hello     -> ready {python, exllamav2: {available, version?, error?, missing?}, jsonFilter, chatTemplates}
  load      {modelDir, maxSeqLen?} -> ready {model, modelDir, loadMs, maxSeqLen}
  generate  {messages? | prompt, fallbackPrompt?, maxTokens, temperature, stop, seed?, jsonSchema?}
            -> delta {text}* then done {finishReason, eosReason, promptTokens, completionTokens,
                                        timeToFirstTokenMs, totalMs, constrained, warnings}
  cancel    {target} -> the target generation ends with done {cancelled: true}; the cancel gets ready
  shutdown  -> done, then the process exits 0

A missing or incompatible `exllamav2` never crashes the bridge: hello reports it and load/generate
answer with an error event of code BINDINGS_UNAVAILABLE.
"""

import json
import os
import platform
import queue
import sys
import threading
import time
import traceback

PROTOCOL_VERSION = 1
INSTALL_HINT = (
    "install it into this interpreter with `{python} -m pip install exllamav2` "
    "(it needs PyTorch and a CUDA or ROCm GPU), or set NERION_PYTHON to an interpreter that has it"
)

# --- stdout belongs to the protocol -----------------------------------------------------------
# Keep a private handle on the real stdout, then point file descriptor 1 (and sys.stdout) at
# stderr so prints from exllamav2, torch or C extensions cannot corrupt the JSON stream.
_protocol_out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr
_write_lock = threading.Lock()


def emit(event):
    line = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    with _write_lock:
        _protocol_out.write(line + "\n")
        _protocol_out.flush()


def error_event(request_id, code, message, **extra):
    event = {"id": request_id, "event": "error", "code": code, "message": message}
    event.update(extra)
    return event


# --- bindings ---------------------------------------------------------------------------------

REQUIRED_NAMES = {
    "exllamav2": ["ExLlamaV2", "ExLlamaV2Config", "ExLlamaV2Cache", "ExLlamaV2Tokenizer"],
    "exllamav2.generator": ["ExLlamaV2DynamicGenerator", "ExLlamaV2DynamicJob", "ExLlamaV2Sampler"],
}


class Bindings:
    """What `import exllamav2` gave us: the classes the bridge uses, or why they are not usable."""

    def __init__(self):
        self.available = False
        self.version = None
        self.error = None
        self.missing = []
        self.api = {}
        try:
            import importlib

            modules = {name: importlib.import_module(name) for name in REQUIRED_NAMES}
        except Exception as exc:  # ImportError, or anything the package raises while importing (CUDA, torch)
            self.error = "{}: {}".format(type(exc).__name__, exc)
            return
        root = modules["exllamav2"]
        self.version = _package_version(root)
        for module_name, names in REQUIRED_NAMES.items():
            for name in names:
                value = getattr(modules[module_name], name, None)
                if value is None:
                    self.missing.append("{}.{}".format(module_name, name))
                else:
                    self.api[name] = value
        if self.missing:
            self.error = "this exllamav2 ({}) lacks {}".format(self.version or "unknown version", ", ".join(self.missing))
            return
        self.available = True

    def describe(self):
        report = {"available": self.available}
        if self.version:
            report["version"] = self.version
        if self.error:
            report["error"] = self.error
        if self.missing:
            report["missing"] = self.missing
        return report

    def unavailable_message(self):
        python = sys.executable or "python3"
        if self.missing:
            return "The installed exllamav2 is incompatible with nerion's bridge ({}); upgrade it with `{} -m pip install -U exllamav2` (the dynamic generator API, 0.1.0 or newer, is needed).".format(
                self.error, python
            )
        return "The Python module `exllamav2` cannot be imported by {} ({}); {}.".format(python, self.error, INSTALL_HINT.format(python=python))


def _package_version(module):
    version = getattr(module, "__version__", None)
    if isinstance(version, str) and version:
        return version
    try:
        from importlib import metadata

        return metadata.version("exllamav2")
    except Exception:  # not installed as a distribution (e.g. on PYTHONPATH): the version is unknown
        return None


def json_filter_engine():
    """The JSON-schema filter machinery that is importable, if any (lm-format-enforcer)."""
    try:
        from lmformatenforcer import JsonSchemaParser  # noqa: F401
        from lmformatenforcer.integrations.exllamav2 import ExLlamaV2TokenEnforcerFilter  # noqa: F401
    except Exception:
        return None
    return "lmformatenforcer"


def jinja_available():
    """Whether jinja2 (for the model's chat template) is installed; found without importing it."""
    try:
        import importlib.util

        return importlib.util.find_spec("jinja2") is not None
    except Exception:
        return False


# --- the engine -------------------------------------------------------------------------------


class Engine:
    def __init__(self, bindings):
        self.bindings = bindings
        self.model = None
        self.cache = None
        self.tokenizer = None
        self.generator = None
        self.model_dir = None
        self.chat_template = None
        self.special_tokens = {}
        self.max_seq_len = None

    @property
    def loaded(self):
        return self.generator is not None

    def load(self, request):
        api = self.bindings.api
        model_dir = request.get("modelDir")
        if not isinstance(model_dir, str) or not model_dir:
            return error_event(request["id"], "INVALID_REQUEST", "load needs a modelDir (the EXLLAMA_MODEL_DIR folder).")
        if not os.path.isfile(os.path.join(model_dir, "config.json")):
            return error_event(
                request["id"],
                "MODEL_NOT_FOUND",
                "No exllamav2 model at {} (config.json is missing); set EXLLAMA_MODEL_DIR to a folder with an EXL2 model, or prepare one with NERION_AUTOSTART_EXL=1.".format(model_dir),
            )
        if self.loaded and self.model_dir == model_dir:
            return {"id": request["id"], "event": "ready", "model": os.path.basename(os.path.normpath(model_dir)), "modelDir": model_dir, "loadMs": 0, "maxSeqLen": self.max_seq_len}
        self.unload()
        started = time.perf_counter()
        try:
            config = api["ExLlamaV2Config"](model_dir)
            if hasattr(config, "arch_compat_overrides"):
                config.arch_compat_overrides()
            max_seq_len = request.get("maxSeqLen")
            if isinstance(max_seq_len, int) and max_seq_len > 0:
                config.max_seq_len = max_seq_len
            model = api["ExLlamaV2"](config)
            cache = api["ExLlamaV2Cache"](model, max_seq_len=config.max_seq_len, lazy=True)
            model.load_autosplit(cache, progress=False)
            tokenizer = api["ExLlamaV2Tokenizer"](config)
            generator = api["ExLlamaV2DynamicGenerator"](model=model, cache=cache, tokenizer=tokenizer)
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            return error_event(
                request["id"],
                "MODEL_LOAD_FAILED",
                "exllamav2 could not load {}: {}: {}. Check that the folder holds a complete EXL2 model and that a supported GPU is visible.".format(model_dir, type(exc).__name__, exc),
            )
        self.model, self.cache, self.tokenizer, self.generator = model, cache, tokenizer, generator
        self.model_dir = model_dir
        self.max_seq_len = getattr(config, "max_seq_len", None)
        self.chat_template, self.special_tokens = _read_chat_template(model_dir)
        return {
            "id": request["id"],
            "event": "ready",
            "model": os.path.basename(os.path.normpath(model_dir)),
            "modelDir": model_dir,
            "loadMs": round((time.perf_counter() - started) * 1000, 3),
            "maxSeqLen": self.max_seq_len,
        }

    def unload(self):
        for name in ("model",):
            model = getattr(self, name)
            if model is not None and hasattr(model, "unload"):
                try:
                    model.unload()
                except Exception:
                    traceback.print_exc(file=sys.stderr)
        self.model = self.cache = self.tokenizer = self.generator = None
        self.model_dir = None

    def render_prompt(self, request, warnings):
        """The text to encode, and whether it came from the model's own chat template."""
        if isinstance(request.get("prompt"), str):
            return request["prompt"], False
        messages = request.get("messages") or []
        fallback = request.get("fallbackPrompt")
        if self.chat_template and jinja_available():
            try:
                import jinja2

                environment = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
                environment.globals["raise_exception"] = _raise_template_error
                template = environment.from_string(self.chat_template)
                return template.render(messages=messages, add_generation_prompt=True, **self.special_tokens), True
            except Exception as exc:
                warnings.append("The model's chat template failed to render ({}: {}); used a plain prompt instead.".format(type(exc).__name__, exc))
        elif self.chat_template:
            warnings.append("The model has a chat template but jinja2 is not installed for this Python; used a plain prompt (install jinja2 to use the template).")
        else:
            warnings.append("The model folder has no chat template (tokenizer_config.json); used a plain prompt.")
        if isinstance(fallback, str):
            return fallback, False
        return "\n".join("{}: {}".format(m.get("role", "user"), m.get("content", "")) for m in messages) + "\nassistant: ", False


def _raise_template_error(message):
    raise ValueError(message)


def _read_chat_template(model_dir):
    path = os.path.join(model_dir, "tokenizer_config.json")
    if not os.path.isfile(path):
        return None, {}
    try:
        with open(path, "r", encoding="utf-8") as handle:
            data = json.load(handle)
    except Exception:
        traceback.print_exc(file=sys.stderr)
        return None, {}
    template = data.get("chat_template")
    if isinstance(template, list):  # named templates: [{"name": "default", "template": "..."}]
        named = {entry.get("name"): entry.get("template") for entry in template if isinstance(entry, dict)}
        template = named.get("default") or next(iter(named.values()), None)
    tokens = {}
    for key in ("bos_token", "eos_token"):
        value = data.get(key)
        if isinstance(value, dict):
            value = value.get("content")
        tokens[key] = value if isinstance(value, str) else ""
    return (template if isinstance(template, str) else None), tokens


# --- the request loop -------------------------------------------------------------------------


class Bridge:
    def __init__(self):
        self.requests = queue.Queue()
        self.deferred = []
        self.bindings = None
        self.engine = None
        self.running = True

    def read_stdin(self):
        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            try:
                request = json.loads(line)
            except ValueError as exc:
                emit(error_event(None, "BACKEND_ERROR", "The bridge got a line that is not JSON ({}).".format(exc)))
                continue
            if not isinstance(request, dict) or not isinstance(request.get("id"), str) or not isinstance(request.get("op"), str):
                emit(error_event(request.get("id") if isinstance(request, dict) else None, "BACKEND_ERROR", "A request needs a string id and op."))
                continue
            self.requests.put(request)
        self.requests.put({"id": None, "op": "eof"})

    def ensure_bindings(self):
        if self.bindings is None:
            self.bindings = Bindings()
            self.engine = Engine(self.bindings)
        return self.bindings

    def hello(self, request):
        bindings = self.ensure_bindings()
        engine = json_filter_engine() if bindings.available else None
        return {
            "id": request["id"],
            "event": "ready",
            "protocol": PROTOCOL_VERSION,
            "python": platform.python_version(),
            "executable": sys.executable,
            "exllamav2": bindings.describe(),
            "installHint": None if bindings.available else bindings.unavailable_message(),
            "jsonFilter": {"available": engine is not None, **({"engine": engine} if engine else {})},
            "chatTemplates": jinja_available(),
            "loaded": self.engine.loaded,
        }

    def run(self):
        reader = threading.Thread(target=self.read_stdin, name="stdin", daemon=True)
        reader.start()
        while self.running:
            request = self.deferred.pop(0) if self.deferred else self.requests.get()
            self.handle(request)

    def handle(self, request):
        op = request["op"]
        if op == "eof":
            self.running = False
            return
        if op == "hello":
            emit(self.hello(request))
        elif op == "shutdown":
            emit({"id": request["id"], "event": "done"})
            self.running = False
        elif op == "cancel":
            # Nothing is running when a cancel reaches the main loop: the target already finished.
            emit({"id": request["id"], "event": "ready", "cancelled": False})
        elif op == "load":
            bindings = self.ensure_bindings()
            if not bindings.available:
                emit(error_event(request["id"], "BINDINGS_UNAVAILABLE", bindings.unavailable_message()))
            else:
                emit(self.engine.load(request))
        elif op == "generate":
            bindings = self.ensure_bindings()
            if not bindings.available:
                emit(error_event(request["id"], "BINDINGS_UNAVAILABLE", bindings.unavailable_message()))
            elif not self.engine.loaded:
                emit(error_event(request["id"], "MODEL_NOT_FOUND", "No model is loaded; send load with the EXLLAMA_MODEL_DIR folder first."))
            else:
                try:
                    self.generate(request)
                except Exception as exc:
                    traceback.print_exc(file=sys.stderr)
                    emit(error_event(request["id"], "BACKEND_ERROR", "exllamav2 failed while generating: {}: {}".format(type(exc).__name__, exc)))
        else:
            emit(error_event(request["id"], "INVALID_REQUEST", "Unknown op {!r}; use hello, load, generate, cancel or shutdown.".format(op)))

    def poll_control(self, current_id):
        """Between generator iterations: answer hello/cancel/shutdown, defer everything else."""
        cancelled = False
        while True:
            try:
                request = self.requests.get_nowait()
            except queue.Empty:
                return cancelled
            op = request["op"]
            if op == "cancel":
                hit = request.get("target") == current_id
                cancelled = cancelled or hit
                emit({"id": request["id"], "event": "ready", "cancelled": hit})
            elif op == "hello":
                emit(self.hello(request))
            elif op in ("shutdown", "eof"):
                self.deferred.insert(0, request)
                return True
            else:
                self.deferred.append(request)

    def generate(self, request):
        api = self.bindings.api
        engine = self.engine
        tokenizer = engine.tokenizer
        request_id = request["id"]
        started = time.perf_counter()
        warnings = []

        text, templated = engine.render_prompt(request, warnings)
        input_ids = tokenizer.encode(text, add_bos=not templated, encode_special_tokens=templated)
        prompt_tokens = int(input_ids.shape[-1])

        temperature = request.get("temperature")
        temperature = 0.0 if temperature is None else float(temperature)
        Settings = api["ExLlamaV2Sampler"].Settings
        if temperature <= 0:
            settings = Settings.greedy() if hasattr(Settings, "greedy") else Settings(temperature=1.0, top_k=1, top_p=0.0, token_repetition_penalty=1.0)
        else:
            settings = Settings()
            settings.temperature = temperature

        stop_conditions = [s for s in (request.get("stop") or []) if isinstance(s, str) and s]
        eos_id = getattr(tokenizer, "eos_token_id", None)
        if isinstance(eos_id, int):
            stop_conditions.append(eos_id)

        filters, constrained = [], False
        schema = request.get("jsonSchema")
        if isinstance(schema, dict) and json_filter_engine() == "lmformatenforcer":
            try:
                from lmformatenforcer import JsonSchemaParser
                from lmformatenforcer.integrations.exllamav2 import ExLlamaV2TokenEnforcerFilter

                filters = [ExLlamaV2TokenEnforcerFilter(JsonSchemaParser(schema), tokenizer)]
                constrained = True
            except Exception as exc:
                traceback.print_exc(file=sys.stderr)
                warnings.append("The JSON filter could not be built ({}: {}); the output is validated instead.".format(type(exc).__name__, exc))

        max_tokens = request.get("maxTokens")
        max_tokens = int(max_tokens) if isinstance(max_tokens, int) and max_tokens > 0 else 512
        job_arguments = {
            "input_ids": input_ids,
            "max_new_tokens": max_tokens,
            "stop_conditions": stop_conditions,
            "gen_settings": settings,
            "identifier": request_id,
        }
        if isinstance(request.get("seed"), int):
            job_arguments["seed"] = request["seed"]
        if filters:
            job_arguments["filters"] = filters
            job_arguments["filter_prefer_eos"] = True
        job = api["ExLlamaV2DynamicJob"](**job_arguments)
        engine.generator.enqueue(job)

        first_token_at = None
        completion_tokens = 0
        while True:
            if self.poll_control(request_id):
                engine.generator.cancel(job)
                emit({"id": request_id, "event": "done", "cancelled": True, "finishReason": "stop", "eosReason": "cancelled",
                      "promptTokens": prompt_tokens, "completionTokens": completion_tokens,
                      "totalMs": _ms(started), "constrained": constrained, "warnings": warnings})
                return
            results = engine.generator.iterate()
            for result in results:
                if result.get("identifier", request_id) != request_id or result.get("stage") != "streaming":
                    continue
                piece = result.get("text")
                if isinstance(piece, str) and piece:
                    if first_token_at is None:
                        first_token_at = _ms(started)
                    emit({"id": request_id, "event": "delta", "text": piece})
                token_ids = result.get("token_ids")
                if token_ids is not None and hasattr(token_ids, "shape"):
                    completion_tokens += int(token_ids.shape[-1])
                if result.get("eos"):
                    reason = result.get("eos_reason")
                    new_tokens = result.get("new_tokens")
                    if isinstance(new_tokens, int):
                        completion_tokens = new_tokens
                    done = {
                        "id": request_id,
                        "event": "done",
                        "finishReason": "length" if reason == "max_new_tokens" else "stop",
                        "eosReason": reason if isinstance(reason, str) else "unknown",
                        "promptTokens": prompt_tokens,
                        "completionTokens": completion_tokens,
                        "totalMs": _ms(started),
                        "constrained": constrained,
                        "warnings": warnings,
                    }
                    if first_token_at is not None:
                        done["timeToFirstTokenMs"] = first_token_at
                    for source, target in (("time_prefill", "prefillMs"), ("time_generate", "generateMs")):
                        value = result.get(source)
                        if isinstance(value, (int, float)):
                            done[target] = round(value * 1000, 3)
                    emit(done)
                    return


def _ms(started):
    return round((time.perf_counter() - started) * 1000, 3)


def main():
    bridge = Bridge()
    try:
        bridge.run()
    except KeyboardInterrupt:
        return 130
    finally:
        if bridge.engine is not None:
            bridge.engine.unload()
    return 0


if __name__ == "__main__":
    sys.exit(main())
