/** A candidate's signals in one short line for a card: "tests 5/5 kept, 4 fixed · repro 1/1 · syntax ok". */
import type { CandidateSignals, SignalValue } from './signalTypes.js';

/**
 * The measured signals a person weighs first, each in a few words; unavailable ones are left out (the card's
 * details list them with the reason). `verifier` names the learned verifier the batch was ranked by.
 */
export function summaryLine(signals: CandidateSignals['signals'], verifier?: 'judge' | 'local'): string {
  const parts: string[] = [];
  const { regression, reproduction, syntax, agreement } = signals;
  if (ok(regression)) {
    const data = regression.data as { broken?: string[]; fixed?: string[]; passedBefore?: number } | undefined;
    const total = data?.passedBefore ?? 0;
    const broken = data?.broken?.length ?? 0;
    const fixed = data?.fixed?.length ?? 0;
    parts.push(`tests ${total - broken}/${total} kept${broken > 0 ? `, ${broken} broken` : ''}${fixed > 0 ? `, ${fixed} fixed` : ''}`);
  }
  if (ok(reproduction)) {
    const data = reproduction.data as { passed?: unknown[]; total?: number } | undefined;
    if (data?.total) parts.push(`repro ${data.passed?.length ?? reproduction.score}/${data.total}`);
  }
  if (ok(syntax)) parts.push(syntax.score < 0 ? `${-syntax.score} syntax error${syntax.score < -1 ? 's' : ''}` : 'syntax ok');
  if (ok(agreement) && agreement.score > 1) parts.push(`${agreement.score} agree`);
  const learned = verifier ? signals[verifier] : undefined;
  if (ok(learned)) parts.push(`${verifier === 'judge' ? 'judge' : 'local verifier'} ${learned.score.toFixed(2)}`);
  return parts.join(' · ') || 'no tests or verifier scores';
}

function ok(value: SignalValue | undefined): value is Extract<SignalValue, { status: 'ok' }> {
  return value?.status === 'ok';
}
