// STUB: the kernels helper replaces this file (front end: validation, Conv2DInfo, then getBackend().conv…).
export {};
