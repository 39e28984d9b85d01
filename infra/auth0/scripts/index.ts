export * from "./assemble";
