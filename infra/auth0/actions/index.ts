export * from "./catalog";
export * from "./assemble";
