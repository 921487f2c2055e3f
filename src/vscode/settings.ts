import * as vscode from 'vscode';
import type { ActionFormat } from '../core/agent/parseAction.js';
import type { SelectorMode, TieBreak } from '../core/verify/signalTypes.js';

/** The extension's settings, read fresh for every run so that changes take effect without a reload. */
export interface ExtensionSettings {
  endpoint: string;
  model: string;
  actionFormat: ActionFormat;
  samples: number;
  concurrency: number;
  temperature: number;
  topP: number;
  seed: number | undefined;
  extra: Record<string, unknown>;
  maxSteps: number;
  maxCostUsd: number;
  /** 0: no token limit per rollout. */
  maxTokens: number;
  batchCostUsd: number;
  timeLimitMinutes: number;
  /** Until the server starts answering, retries included. */
  requestTimeoutSeconds: number;
  /** The longest silence in the middle of a streamed answer. */
  streamIdleTimeoutSeconds: number;
  pricing: { inputPerMTok: number; outputPerMTok: number };
  testCommand: string;
  judge: { enabled: boolean; endpoint: string; model: string };
  localVerifier: boolean;
  /** Empty: the bundled model. */
  localModel: string;
  tests: boolean;
  /** Time limit of one test run, and test runs at once. */
  testTimeoutSeconds: number;
  testConcurrency: number;
  selector: { mode: SelectorMode; tieBreak: TieBreak };
  recordDecisions: boolean;
  /** Empty: the extension's storage for the workspace. */
  storeDirectory: string;
  sandbox: { mode: 'required' | 'preferred' | 'off'; allowUnsandboxed: boolean; network: 'off' | 'allowlist' | 'on'; allowedHosts: string[] };
}

/** Reads `entropo.*`; the defaults are the ones declared in package.json. */
export function readSettings(): ExtensionSettings {
  const c = vscode.workspace.getConfiguration('entropo');
  const get = <T>(key: string, fallback: T): T => c.get<T>(key) ?? fallback;
  return {
    endpoint: get('endpoint', 'http://localhost:8000/v1'),
    model: get('model', ''),
    actionFormat: get<ActionFormat>('actionFormat', 'tools'),
    samples: get('samples', 4),
    concurrency: get('concurrency', 4),
    temperature: get('temperature', 0.7),
    topP: get('topP', 0.8),
    seed: c.get<number | null>('seed') ?? undefined,
    extra: get('extraSamplingParameters', {}),
    maxSteps: get('maxSteps', 100),
    maxCostUsd: get('maxCostUsd', 10),
    maxTokens: get('maxTokens', 0),
    batchCostUsd: get('batchCostUsd', 0),
    timeLimitMinutes: get('timeLimitMinutes', 60),
    requestTimeoutSeconds: get('requestTimeoutSeconds', 60),
    streamIdleTimeoutSeconds: get('streamIdleTimeoutSeconds', 60),
    pricing: { inputPerMTok: get('priceInputPerMTok', 0), outputPerMTok: get('priceOutputPerMTok', 0) },
    testCommand: get('testCommand', ''),
    judge: { enabled: get('verifier.judge', false), endpoint: get('verifier.judgeEndpoint', ''), model: get('verifier.judgeModel', '') },
    localVerifier: get('verifier.local', true),
    localModel: get('verifier.localModel', ''),
    tests: get('verifier.tests', true),
    testTimeoutSeconds: get('verifier.testTimeoutSeconds', 600),
    testConcurrency: get('verifier.testConcurrency', 2),
    selector: { mode: get<SelectorMode>('selector.mode', 'entropo'), tieBreak: get<TieBreak>('selector.tieBreak', 'verifier') },
    recordDecisions: get('recordDecisions', true),
    storeDirectory: get('storeDirectory', ''),
    sandbox: { mode: get('sandbox.mode', 'preferred'), allowUnsandboxed: get('sandbox.allowUnsandboxed', false), network: get('sandbox.network', 'off'), allowedHosts: get('sandbox.allowedHosts', []) },
  };
}
