export * from "./assemble";
export * from "./modules";
