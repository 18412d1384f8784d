"""STAND-IN for exllamav2.generator (tests only): the dynamic generator API, deterministic tokens."""

import json
import os
import random
import sys
import time

from exllamav2 import SeqIds

WORDS = ["def", "add", "(a,", "b):", "return", "a", "+", "b", "const", "sum", "=", "let", "x", "y", "=>", ";", "{", "}"]

_jobs_started = 0


class ExLlamaV2Sampler:
    class Settings:
        def __init__(self, temperature=0.8, top_k=50, top_p=0.8, token_repetition_penalty=1.025, **kwargs):
            self.temperature = temperature
            self.top_k = top_k
            self.top_p = top_p
            self.token_repetition_penalty = token_repetition_penalty

        @staticmethod
        def greedy(**kwargs):
            defaults = {"temperature": 1.0, "token_repetition_penalty": 1.0, "top_p": 0.0, "top_k": 1}
            defaults.update(kwargs)
            return ExLlamaV2Sampler.Settings(**defaults)


class ExLlamaV2DynamicJob:
    def __init__(self, input_ids, max_new_tokens, min_new_tokens=0, max_skips=4, gen_settings=None, seed=None,
                 stop_conditions=None, decode_special_tokens=False, filters=None, filter_prefer_eos=False,
                 token_healing=False, identifier=None, banned_strings=None, embeddings=None, **kwargs):
        assert input_ids.shape[-1] > 0, "Input IDs cannot be empty."
        self.input_ids = input_ids
        self.max_new_tokens = max_new_tokens
        self.gen_settings = gen_settings or ExLlamaV2Sampler.Settings()
        self.identifier = identifier
        self.stop_strings = [s for s in (stop_conditions or []) if isinstance(s, str)]
        self.stop_tokens = [t for t in (stop_conditions or []) if isinstance(t, int)]
        greedy = self.gen_settings.top_k == 1
        if seed is not None:
            self.rng = random.Random(seed)
        elif greedy:
            self.rng = random.Random(sum((i + 1) * v for i, v in enumerate(input_ids.values)))
        else:
            self.rng = random.Random()
        self.serial_number = None
        self.new_tokens = 0
        self.full_completion = ""
        self.held_text = ""
        self.started = False
        self.time_enqueue = None
        self.time_first_token = None
        self.script = None

    def next_piece(self):
        """The next token's text, or None for EOS."""
        if self.script is not None:
            if not self.script:
                return None
            piece, self.script = self.script[:3], self.script[3:]
            return piece
        return self.rng.choice(WORDS) + " "


class ExLlamaV2DynamicGenerator:
    def __init__(self, model, cache, tokenizer, max_batch_size=None, max_seq_len=None, paged=True, **kwargs):
        self.model = model
        self.cache = cache
        self.tokenizer = tokenizer
        self.jobs = []
        self.job_serial = 0
        self.tokens_emitted = 0
        self.delay = float(os.environ.get("NERION_STANDIN_TOKEN_DELAY_MS", "2")) / 1000.0
        crash = os.environ.get("NERION_STANDIN_CRASH_AFTER_TOKENS")
        self.crash_after = int(crash) if crash else None
        hang = os.environ.get("NERION_STANDIN_HANG_AFTER_TOKENS")
        self.hang_after = int(hang) if hang else None
        outputs = os.environ.get("NERION_STANDIN_OUTPUTS")
        self.outputs = json.loads(outputs) if outputs else []

    def num_remaining_jobs(self):
        return len(self.jobs)

    def enqueue(self, job):
        global _jobs_started
        job.serial_number = self.job_serial
        self.job_serial += 1
        if _jobs_started < len(self.outputs):
            job.script = self.outputs[_jobs_started]
        _jobs_started += 1
        job.time_enqueue = time.time()
        self.jobs.append(job)
        return job.serial_number

    def cancel(self, job):
        if job in self.jobs:
            self.jobs.remove(job)

    def iterate(self):
        results = []
        for job in list(self.jobs):
            base = {"job": job, "serial": job.serial_number}
            if job.identifier is not None:
                base["identifier"] = job.identifier
            if not job.started:
                job.started = True
                results.append(dict(base, stage="started", eos=False))
                continue
            if self.crash_after is not None and self.tokens_emitted >= self.crash_after:
                sys.stderr.write("stand-in exllamav2: simulated crash (CUDA error: an illegal memory access was encountered)\n")
                sys.stderr.flush()
                os._exit(3)
            if self.hang_after is not None and self.tokens_emitted >= self.hang_after:
                marker = os.environ.get("NERION_STANDIN_HANG_MARKER")
                if marker:
                    open(marker, "w").close()  # tells a test the hang has begun
                time.sleep(3600)  # a stuck CUDA kernel: iterate() never returns, cancel cannot be seen
            if self.delay:
                time.sleep(self.delay)
            piece = job.next_piece()
            if job.time_first_token is None:
                job.time_first_token = time.time()
            if piece is None:
                results.append(self.finish(job, base, "stop_token", job.held_text))
                continue
            job.new_tokens += 1
            self.tokens_emitted += 1
            job.held_text += piece
            stop_at = min((job.held_text.find(s) for s in job.stop_strings if s in job.held_text), default=-1)
            if stop_at >= 0:
                results.append(self.finish(job, base, "stop_string", job.held_text[:stop_at]))
                continue
            if job.new_tokens >= job.max_new_tokens:
                results.append(self.finish(job, base, "max_new_tokens", job.held_text))
                continue
            # Hold back a tail that could still become a stop string, like the real generator.
            hold = 0
            for stop in job.stop_strings:
                for length in range(min(len(stop) - 1, len(job.held_text)), 0, -1):
                    if job.held_text.endswith(stop[:length]):
                        hold = max(hold, length)
                        break
            text, job.held_text = job.held_text[: len(job.held_text) - hold], job.held_text[len(job.held_text) - hold:]
            job.full_completion += text
            result = dict(base, stage="streaming", eos=False, token_ids=SeqIds([300]))
            if text:
                result["text"] = text
            results.append(result)
        return results

    def finish(self, job, base, reason, text):
        self.jobs.remove(job)
        job.full_completion += text
        now = time.time()
        result = dict(base, stage="streaming", eos=True, eos_reason=reason, full_completion=job.full_completion,
                      new_tokens=job.new_tokens, time_enqueued=0.0,
                      time_prefill=(job.time_first_token or now) - job.time_enqueue,
                      time_generate=now - job.time_enqueue)
        if text:
            result["text"] = text
        return result


if not os.environ.get("NERION_STANDIN_BROKEN"):
    __all__ = ["ExLlamaV2DynamicGenerator", "ExLlamaV2DynamicJob", "ExLlamaV2Sampler"]
else:
    # Simulates an older or newer release whose generator module lacks the dynamic job class.
    del ExLlamaV2DynamicJob
