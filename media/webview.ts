// The review panel's script; the panel itself arrives with the extension.
export {};
