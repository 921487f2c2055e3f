/**
 * Every setting of the product, once: its type, default, range, unit and one line of documentation. The CLI's
 * flags and --help, the extension's settings (`contributes.configuration` in package.json, written from here
 * by the build) and the validation of both come from these definitions. A setting exists in both front ends
 * unless its `only` says why it cannot. Command arguments that are not settings (the repository, the issue,
 * an output folder, `--json`) belong to their commands.
 */
import { boolean, choice, integer, list, number, object, optionalInteger, text, type ValueOf } from './settingKinds.js';

/** Where the agent's model is and how it is called. */
export const MODEL_SETTINGS = {
  endpoint: text({
    default: 'http://localhost:8000/v1', flag: 'base-url', placeholder: 'URL', url: true,
    doc: 'Base URL of an OpenAI-compatible endpoint: vLLM, SGLang, Ollama (http://localhost:11434/v1), llama.cpp, LM Studio (http://localhost:1234/v1) or a hosted API.',
    more: 'The API key is never a setting: the extension keeps it in the editor\'s secret storage (run **EntroPO: Configure Model**); the CLI reads `ENTROPO_API_KEY`, else `OPENAI_API_KEY`.',
  }),
  model: text({ default: '', placeholder: 'NAME', doc: 'Model name at the endpoint.' }),
  actionFormat: choice(['tools', 'text'], {
    default: 'tools', flag: 'format',
    doc: 'How the agent\'s actions are exchanged with the model: native tool calls, or the text function-call format.',
    valueDocs: ['Native OpenAI tool calls.', 'The text function-call format of models trained on the R2E-Gym scaffold (EntroPO policies).'],
  }),
  requestTimeoutSeconds: number({
    default: 60, min: 0, exclusiveMin: true, flag: 'request-timeout', placeholder: 'SECONDS',
    doc: 'Seconds a model call may wait for the server to start answering, retries included; a server that never answers ends the rollout then.',
  }),
  streamIdleTimeoutSeconds: number({
    default: 60, min: 0, exclusiveMin: true, flag: 'stream-idle-timeout', placeholder: 'SECONDS',
    doc: 'Seconds of silence allowed in the middle of a streamed answer; a slow server that keeps sending goes on.',
  }),
  priceInputPerMTok: number({ default: 0, min: 0, flag: 'price-in', placeholder: 'USD', doc: 'Price per million prompt tokens in US dollars, for cost accounting.' }),
  priceOutputPerMTok: number({ default: 0, min: 0, flag: 'price-out', placeholder: 'USD', doc: 'Price per million completion tokens in US dollars, for cost accounting.' }),
} as const;

/** How many rollouts, and how they sample. */
export const SAMPLING_SETTINGS = {
  samples: integer({ default: 4, min: 1, max: 16, short: 'n', placeholder: 'N', doc: 'Rollouts per issue.' }),
  concurrency: integer({ default: 0, min: 0, max: 16, placeholder: 'K', doc: 'Rollouts running at once; 0: all of them.' }),
  temperature: number({ default: 0.7, min: 0, max: 2, placeholder: 'T', doc: 'Sampling temperature; 0.7 keeps rollouts diverse.' }),
  topP: number({ default: 0.8, min: 0, exclusiveMin: true, max: 1, flag: 'top-p', placeholder: 'P', doc: 'Nucleus sampling (top_p).' }),
  seed: optionalInteger({
    min: 0, placeholder: 'S',
    doc: 'Base sampling seed: rollout k uses seed + k, so servers that honour seeds make runs reproducible; unset: no seed.',
  }),
  extraSamplingParameters: object({
    default: {}, flag: 'extra', placeholder: 'JSON',
    doc: 'Extra sampling parameters sent to the server as they are, e.g. {"top_k": 20, "repetition_penalty": 1.05} for vLLM; they override the ones found for the server.',
  }),
} as const;

/** Limits of one rollout and of the whole batch. */
export const LIMIT_SETTINGS = {
  maxSteps: integer({ default: 100, min: 1, placeholder: 'N', doc: 'Step limit per rollout.' }),
  maxTokens: integer({ default: 0, min: 0, placeholder: 'N', doc: 'Token limit per rollout, prompt plus completion tokens; 0: none.' }),
  maxCostUsd: number({ default: 10, min: 0, flag: 'max-cost', placeholder: 'USD', doc: 'Cost limit per rollout in US dollars; 0: none.' }),
  maxContextTokens: integer({
    default: 65_536, min: 1024, placeholder: 'N',
    doc: 'Context of the model in tokens; when a conversation would outgrow it, the longest observations are condensed first.',
  }),
  maxNewTokens: integer({ default: 16_384, min: 1, placeholder: 'N', doc: 'Tokens the model may write in one answer; a small model on a laptop rambles without a lower one.' }),
  timeLimitMinutes: number({ default: 60, min: 0, exclusiveMin: true, flag: 'time-limit-minutes', placeholder: 'MINUTES', doc: 'Wall time limit per rollout, in minutes.' }),
  toolTimeoutSeconds: number({ default: 90, min: 0, exclusiveMin: true, flag: 'tool-timeout', placeholder: 'SECONDS', doc: 'Time limit of one command the agent runs, in seconds.' }),
  batchCostUsd: number({ default: 0, min: 0, flag: 'batch-cost', placeholder: 'USD', doc: 'Cost limit for all rollouts of one issue in US dollars; 0: none.' }),
  batchTokens: integer({ default: 0, min: 0, placeholder: 'N', doc: 'Token limit for all rollouts of one issue; 0: none.' }),
} as const;

/** How candidates are verified and ranked. */
export const VERIFY_SETTINGS = {
  testCommand: text({
    default: '', placeholder: 'CMD',
    doc: 'Command that runs the repository\'s tests, for the regression signal; empty: detected (npm test, pytest, go test, cargo test, ...).',
  }),
  tests: boolean({ default: true, key: 'verifier.tests', doc: 'Run the regression and reproduction tests of every candidate.' }),
  testTimeoutSeconds: integer({
    default: 600, min: 1, key: 'verifier.testTimeoutSeconds', flag: 'test-timeout', placeholder: 'SECONDS',
    doc: 'Time limit of one test run, in seconds; a run killed at it gives that candidate no regression score (unavailable, with the reason), never a count of broken tests.',
  }),
  testConcurrency: integer({
    default: 2, min: 1, max: 64, key: 'verifier.testConcurrency', placeholder: 'K',
    doc: 'Test runs at once; slow tests can time out or flake when many runs share few cores.',
  }),
  sharedBreaks: choice(['count', 'ignore'], {
    default: 'count', key: 'verifier.sharedBreaks',
    doc: 'How a test that every source-changing candidate breaks is scored: like any other (count), or not at all (ignore).',
    valueDocs: ['A broken test counts against every candidate that breaks it.', 'A test that every source-changing candidate breaks is evidence about the test, not against the candidates.'],
  }),
  judge: boolean({
    default: true, key: 'verifier.judge',
    doc: 'Ask an LLM judge for P(YES) per candidate: the judge endpoint and model below, else the agent\'s own (one more call per candidate, counted in the cost); an endpoint that returns no logprobs, or fails in a way that repeats (unreachable, a refused key, an unknown model, no answer within the request timeout), is asked no more, and the run says so.',
  }),
  judgeEndpoint: text({
    default: '', key: 'verifier.judgeEndpoint', flag: 'judge-url', placeholder: 'URL', cliEnables: 'judge', url: true,
    doc: 'Base URL of the judge; empty: the agent\'s endpoint (`rank`, and runs that replay scripts, have none: they need this). On the command line, giving it turns the judge on.',
  }),
  judgeModel: text({
    default: '', key: 'verifier.judgeModel', placeholder: 'NAME',
    doc: 'Judge model, e.g. a verifier trained with EntroPO\'s recipe; empty: the agent\'s model.',
  }),
  localVerifier: boolean({ default: true, key: 'verifier.local', flag: 'local', doc: 'Score candidates with the local verifier (a small ONNX model, on the CPU).' }),
  localModel: text({
    default: '', key: 'verifier.localModel', placeholder: 'FILE', machine: true, path: 'file', mustExist: true,
    doc: 'A local verifier model (.onnx) to use instead of the bundled one, e.g. one retrained on your own decisions; empty: the bundled model.',
    more: 'Retrain it with `entropo export --format verifier-features`, then `trainer/verifier/train.py`.',
  }),
  selectorMode: choice(['entropo', 'r2e'], {
    default: 'entropo', key: 'selector.mode', flag: 'mode', doc: 'How candidates are ranked.',
    valueDocs: ['EntroPO\'s hybrid order: finished, verifier, regression, reproduction, verifier floor.', 'R2E-Gym\'s order: top half by verifier, regression, reproduction, verifier.'],
  }),
  tieBreak: choice(['verifier', 'agreement', 'longest', 'shortest'], {
    default: 'verifier', key: 'selector.tieBreak', doc: 'Tie-break after the selector\'s filters.',
  }),
} as const;

/** How the commands the product runs on its own (the agent's, the tests) are contained. */
export const CONTAINMENT_SETTINGS = {
  sandboxMode: choice(['required', 'preferred', 'off'], {
    default: 'preferred', key: 'sandbox.mode', flag: 'sandbox', machine: true,
    doc: 'Contain the agent\'s commands and the tests in a sandbox (bubblewrap: only the workspace is writable, home secrets hidden, no network unless allowed); preferred runs unsandboxed only with consent where none is available.',
  }),
  allowUnsandboxed: boolean({
    default: false, key: 'sandbox.allowUnsandboxed', machine: true,
    doc: 'Consent to run those commands without a sandbox where none is available (or with the sandbox off): they then run with your permissions, files and network.',
    more: 'Without it the extension asks once per workspace. A machine setting, so a repository\'s own settings cannot give it.',
  }),
  isolation: choice(['auto', 'overlay', 'worktree'], {
    default: 'auto', key: 'workspace.isolation', machine: true,
    doc: 'How each rollout and each test run gets its own copy of your repository; auto probes once and says in the run\'s log and result.json which it took, and why.',
    valueDocs: [
      'Overlays where this machine allows them, else worktrees.',
      'A copy-on-write overlay over one shared checkout (Linux with unprivileged user namespaces): the same cost on any size of repository; fails with the reason where it cannot work.',
      'One git worktree each: a checkout per rollout, works everywhere.',
    ],
  }),
  network: choice(['off', 'allowlist', 'on'], { default: 'off', key: 'sandbox.network', machine: true, doc: 'Network access of those commands.' }),
  allowedHosts: list({
    default: [], key: 'sandbox.allowedHosts', flag: 'allow-host', placeholder: 'HOST', machine: true,
    doc: 'Hosts reachable when the network is allowlist (host, host:port or *.domain).',
  }),
} as const;

/** Whether and where runs and decisions are recorded. */
export const RECORD_SETTINGS = {
  recordDecisions: boolean({ default: true, flag: 'record', doc: 'Record runs and your apply/reject decisions as preference data for fine-tuning (secrets are redacted first).' }),
  storeDirectory: text({
    default: '', flag: 'store', placeholder: 'DIR', machine: true, path: 'folder',
    doc: 'Folder of the preference store; empty: the extension\'s storage for the workspace, or ~/.local/state/entropo/store/<repository> for the CLI.',
  }),
} as const;

/** Fine-tuning with EntroPO. */
export const TRAIN_SETTINGS = {
  trainAlpha: number({
    default: 0.11, min: 0, key: 'train.alpha', flag: 'alpha', placeholder: 'A',
    doc: 'EntroPO\'s weight of log π (the policy) in r(t) = α·log π(t) − β·log π_ref(t); above beta adds an entropy bonus, equal to beta is plain DPO (the paper: 0.11, advised 0.105–0.15).',
  }),
  trainBeta: number({
    default: 0.1, min: 0, key: 'train.beta', flag: 'beta', placeholder: 'B',
    doc: 'EntroPO\'s weight of log π_ref (the starting model): how strongly training stays close to it (the paper: 0.1).',
  }),
  quantize: choice(['none', '4bit'], {
    default: 'none', key: 'train.quantize', machine: true,
    doc: 'How the base model is held in GPU memory while the adapter trains; 4bit (QLoRA) takes about a third of the memory and some speed.',
    valueDocs: ['The base model in its own precision (bf16 on a GPU).', 'QLoRA: the base model in 4-bit NF4 with bf16 compute (bitsandbytes, installed on first use; CUDA only). An 8B model then trains on a 24 GB GPU.'],
  }),
  pythonEnvironment: text({
    default: '', key: 'train.pythonEnvironment', flag: 'venv', placeholder: 'DIR', machine: true, path: 'folder',
    doc: 'Folder of the trainer\'s Python virtual environment, created there on the first run if missing (PyTorch and friends: several GB); empty: the default place.',
  }),
  trainExtraArgs: list({
    default: [], key: 'train.extraArgs', machine: true,
    doc: 'More arguments for the trainer, one per item, e.g. ["--max-length", "8192", "--length-normalize"] (trainer/README.md lists them).',
    only: { frontEnd: 'vscode', why: 'on the command line, the arguments after -- go to the trainer as they are' },
  }),
} as const;

/** Every setting. */
export const SETTINGS = {
  ...MODEL_SETTINGS, ...SAMPLING_SETTINGS, ...LIMIT_SETTINGS, ...VERIFY_SETTINGS, ...CONTAINMENT_SETTINGS, ...RECORD_SETTINGS, ...TRAIN_SETTINGS,
} as const;

/** A setting's name. */
export type SettingName = keyof typeof SETTINGS;

/** The value of every setting, validated. */
export type Settings = { -readonly [K in SettingName]: ValueOf<(typeof SETTINGS)[K]> };
