/** Token prices and the arithmetic that turns token counts into money. */

/** Prices in USD per million tokens; zero means unknown or free (a local server). */
export interface Pricing {
  inputPerMTok: number;
  outputPerMTok: number;
}

/** The price of a model we know nothing about: a local server costs nothing we can measure. */
export const UNKNOWN_PRICING: Pricing = { inputPerMTok: 0, outputPerMTok: 0 };

/** Cost in USD of one call with the given token counts. */
export function costUsd(promptTokens: number, completionTokens: number, pricing: Pricing = UNKNOWN_PRICING): number {
  return (promptTokens * pricing.inputPerMTok + completionTokens * pricing.outputPerMTok) / 1_000_000;
}

/**
 * Rough token count of a text, ceil(chars / 4), used only when a server reports no usage: close enough
 * for limits and cost estimates on English and code, never a measurement.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
