/** Converts recorded conversations to OpenAI's chat shape, the lingua franca of chat templates and TRL. */
import type { Message, ToolSpec } from '../types.js';

/** A chat message as OpenAI and Hugging Face chat templates spell it. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  tool_calls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
}

/** An OpenAI function tool spec. */
export interface ChatTool {
  type: 'function';
  function: { name: string; description: string; parameters: ToolSpec['parameters'] };
}

/** One message in OpenAI's shape: `tool_calls` with `type: function`, `tool_call_id` on tool messages. */
export function toChatMessage(message: Message): ChatMessage {
  const out: ChatMessage = { role: message.role, content: message.content ?? '' };
  if (message.toolCalls && message.toolCalls.length > 0) {
    out.tool_calls = message.toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }));
  }
  if (message.role === 'tool') out.tool_call_id = message.toolCallId ?? '';
  return out;
}

/** Tool specs in OpenAI's `{type: 'function', function: {...}}` shape. */
export function toChatTools(specs: readonly ToolSpec[]): ChatTool[] {
  return specs.map((spec) => ({ type: 'function', function: { name: spec.name, description: spec.description, parameters: spec.parameters } }));
}

/**
 * Splits a rollout's conversation into the prompt (the system message and the issue: every message before
 * the first assistant turn) and the continuation (the assistant turns and the observations that answered
 * them). A conversation without an assistant turn has no continuation and cannot be trained on.
 */
export function splitConversation(messages: readonly Message[]): { prompt: ChatMessage[]; continuation: ChatMessage[] } | null {
  const first = messages.findIndex((m) => m.role === 'assistant');
  if (first <= 0) return null;
  if (messages.slice(0, first).some((m) => m.role !== 'system' && m.role !== 'user')) return null;
  return { prompt: messages.slice(0, first).map(toChatMessage), continuation: messages.slice(first).map(toChatMessage) };
}
