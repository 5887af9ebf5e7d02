// STUB: the reductions/join helper replaces this file.
export {};
