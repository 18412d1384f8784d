/**
 * ensureOllamaModel when nothing answers: the fix it carries follows why (real fetches on 127.0.0.1: a port
 * nothing listens on, and a port on the fetch standard's blocked list, which Node's fetch refuses).
 */
import { closedPort, rejection } from '@nerion/test-support';
import { ensureOllamaModel } from './ensure-model.js';

const neverAsked = () => Promise.reject(new Error('consent must not be asked when nothing answers'));

describe('ensureOllamaModel with nothing to talk to', () => {
  it('a blocked port: the fix is to run Ollama elsewhere (`ollama serve`), never to start it on that port', async () => {
    const baseUrl = 'http://127.0.0.1:6000';
    const error = await rejection(ensureOllamaModel({ tag: 'nerion-tiny', baseUrl, consent: neverAsked }));
    expect(error.code).toBe('BACKEND_UNREACHABLE');
    expect(error.message).toMatch(
      /port 6000 is on the fetch standard's list of blocked ports.*run Ollama on another port/,
    );
    expect(error.fix).toEqual({
      settings: ['NERION_OLLAMA_BASE_URL', 'OLLAMA_HOST', 'NERION_CODER_BASE_URL'],
      command: ['ollama', 'serve'],
    });
    expect(error.data).toMatchObject({ baseUrl, code: 'BAD_PORT' });
  });

  it('a refused port: the fix starts Ollama where nerion looks', async () => {
    const port = await closedPort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const error = await rejection(ensureOllamaModel({ tag: 'nerion-tiny', baseUrl, consent: neverAsked }));
    expect(error.code).toBe('BACKEND_UNREACHABLE');
    expect(error.fix?.command).toEqual(['env', `OLLAMA_HOST=127.0.0.1:${port}`, 'ollama', 'serve']);
    expect(error.data).toMatchObject({ baseUrl, code: 'ECONNREFUSED' });
  });
});
