// @dc/strategies: nothing is exported until it is implemented (see the package README).
export {};
