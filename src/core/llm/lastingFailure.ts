import { AgentError, type ErrorReason } from '../errors.js';

/**
 * A failed model call that the same request would meet again at once: no server at the address, none that
 * starts answering within the request timeout, a refused key, an unknown model or route, a web page where
 * the API was meant. A caller with more requests for the endpoint (the judge asks once per candidate) stops.
 */
export class LastingFailure extends AgentError {
  constructor(reason: ErrorReason, message: string) {
    super(reason, message);
    this.name = 'LastingFailure';
  }
}
