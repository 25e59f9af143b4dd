/** Package name used in every error message (`[dc:hotkeys] ...`). */
export const SCOPE = 'hotkeys';
