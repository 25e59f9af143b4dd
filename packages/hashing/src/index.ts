// @dc/hashing: nothing is exported until it is implemented (see the package README).
export {};
