/**
 * Signal 7b, the local learned verifier: a small ONNX model run by onnxruntime-node on CPU that scores every
 * candidate patch of an issue from the features of features.ts. Score = P(resolved) in [0, 1], as estimated
 * by a model trained on real SWE-bench Lite candidates (see models/local-verifier/README.md for how well it
 * ranks: modestly). A missing, corrupt or stale model makes the signal unavailable, never a made-up number.
 */

import type { Verifier } from '../verifier.js';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import { AgentError, ErrorReason } from '../../errors.js';
import type { SignalValue } from '../signalTypes.js';
import { FEATURE_NAMES, FEATURE_SCHEMA, instanceFeatures } from './features.js';
import { modelLocation } from './modelLocation.js';

/** One candidate to score: its id and its patch (a unified diff). */
export interface LocalCandidate {
  id: string;
  patch: string;
}

/** Settings of the local verifier. */
export interface LocalVerifierOptions {
  /** Path of the .onnx model; found next to the bundle or in the repository's models/ folder when absent. */
  modelPath?: string;
}

type Loaded = { ok: true; session: InferenceSession; file: string } | { ok: false; reason: string };

const PROBABILITIES = 'probabilities';
// Sessions by model file; a failed load is not cached, so a model put in place later is picked up.
const sessions = new Map<string, Promise<InferenceSession>>();

/**
 * Scores all `candidates` of one issue in a single batched model run; the result maps each candidate id to
 * its signal. Every candidate gets the same 'unavailable' reason when the model cannot be used.
 */
export async function localVerifier(
  problemStatement: string,
  candidates: readonly LocalCandidate[],
  options: LocalVerifierOptions = {},
): Promise<Map<string, SignalValue>> {
  const ids = candidates.map((c) => c.id);
  if (new Set(ids).size !== ids.length) {
    throw new AgentError(ErrorReason.InvalidArgument, `local verifier: candidate ids must be unique, got ${ids.join(', ')}`);
  }
  const result = new Map<string, SignalValue>();
  if (candidates.length === 0) return result;
  const loaded = await loadModel(options.modelPath);
  if (!loaded.ok) {
    for (const id of ids) result.set(id, { status: 'unavailable', reason: loaded.reason });
    return result;
  }
  const vectors = instanceFeatures(problemStatement, candidates.map((c) => c.patch));
  let scores: Float32Array;
  try {
    scores = await runModel(loaded.session, vectors);
  } catch (error) {
    const reason = `local verifier model ${loaded.file} failed to run: ${messageOf(error)}`;
    for (const id of ids) result.set(id, { status: 'unavailable', reason });
    return result;
  }
  // An empty patch stays in the batch (the others' agreement features count it, as in training) but is not
  // judged itself: there is nothing to judge.
  ids.forEach((id, i) => result.set(id, candidates[i].patch.trim() === '' ? { status: 'unavailable', reason: 'empty patch' } : toSignal(scores[i], vectors[i])));
  return result;
}

/** Loads (once per file) and checks the model; the reason says what to do when it cannot be used. */
export async function loadModel(modelPath?: string): Promise<Loaded> {
  const location = modelLocation(modelPath);
  if (!location.found) {
    return { ok: false, reason: `local verifier model not found (looked in ${location.searched.join(', ')})` };
  }
  const file = location.file;
  let pending = sessions.get(file);
  if (pending === undefined) {
    pending = createSession(file);
    sessions.set(file, pending);
  }
  let session: InferenceSession;
  try {
    session = await pending;
  } catch (error) {
    sessions.delete(file);
    return { ok: false, reason: `cannot load local verifier model ${file}: ${messageOf(error)}` };
  }
  if (session.inputNames[0] !== FEATURE_SCHEMA || !session.outputNames.includes(PROBABILITIES)) {
    return {
      ok: false,
      reason: `local verifier model ${file} expects ${session.inputNames[0]} but this version computes ${FEATURE_SCHEMA}; retrain it (models/local-verifier/README.md)`,
    };
  }
  return { ok: true, session, file };
}

type Ort = typeof import('onnxruntime-node');
let runtime: Ort | undefined;

/**
 * onnxruntime-node, required on first use: a platform without the native binding loses this signal, not the
 * extension. A plain require (not import()) so that the CommonJS bundle, tsx and vitest all resolve it alike.
 *
 * Its telemetry is turned off first: since 1.30, onnxruntime on Linux and macOS sends usage events to
 * Microsoft and keeps a device id and an event database in ~/.cache/Microsoft and a log in the temporary
 * folder, unless ORT_DISABLE_TELEMETRY is set when its first session is made. A local agent sends nothing
 * anywhere unasked; a user who sets the variable keeps the value they chose.
 */
function ort(): Ort {
  const base = typeof __filename === 'string' ? __filename : path.join(process.cwd(), 'package.json');
  process.env.ORT_DISABLE_TELEMETRY ??= '1';
  runtime ??= createRequire(base)('onnxruntime-node') as Ort;
  return runtime;
}

async function createSession(file: string): Promise<InferenceSession> {
  // One thread: the model is a few hundred multiply-adds, and a thread pool only costs start-up time.
  return ort().InferenceSession.create(file, { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, logSeverityLevel: 3 });
}

async function runModel(session: InferenceSession, vectors: Float32Array[]): Promise<Float32Array> {
  const width = FEATURE_NAMES.length;
  const batch = new Float32Array(vectors.length * width);
  vectors.forEach((vector, i) => batch.set(vector, i * width));
  const input = new (ort().Tensor)('float32', batch, [vectors.length, width]);
  const output = await session.run({ [session.inputNames[0]]: input }, [PROBABILITIES]);
  const probabilities = output[PROBABILITIES];
  if (probabilities.dims.length !== 2 || probabilities.dims[0] !== vectors.length || probabilities.dims[1] !== 2) {
    throw new Error(`unexpected output shape [${probabilities.dims.join(', ')}]`);
  }
  const data = probabilities.data as Float32Array;
  return Float32Array.from({ length: vectors.length }, (_, i) => data[i * 2 + 1]);
}

function toSignal(score: number, vector: Float32Array): SignalValue {
  if (!Number.isFinite(score) || score < 0 || score > 1) {
    return { status: 'unavailable', reason: `local verifier produced an invalid score (${score})` };
  }
  return {
    status: 'ok',
    score,
    detail: `local verifier ${score.toFixed(2)}`,
    data: { features: Object.fromEntries(FEATURE_NAMES.map((name, i) => [name, vector[i]])) },
  };
}

/** The first line of an error's message, kept short: native loaders can report whole module sources. */
function messageOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = message.split('\n')[0];
  return line.length > 300 ? `${line.slice(0, 300)}...` : line;
}

/** The local verifier of one issue, for `verifyCandidates`. */
export function localVerifierFor(problemStatement: string, options: LocalVerifierOptions = {}): Verifier {
  return { signals: ['local'], verify: async (candidates) => ({ local: await localVerifier(problemStatement, candidates, options) }) };
}
