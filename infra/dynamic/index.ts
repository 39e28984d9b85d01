export * from "./migrations";
export * from "./vault-secret";
export * from "./fdw";
export * from "./fdw-table";
export * from "./security";
export * from "./adoption";
