/**
 * Reads a dynamic provider's check failure the way the engine prints it. A failure must carry no
 * `property` (the engine would print that property's whole value before the reason: migration SQL,
 * a connection object); its reason starts with the property's path instead. Returns the top-level
 * property the reason names, and fails the test when the failure names a property.
 */
import { expect } from "vitest";

export function failedProperty(failure: { property: string; reason: string }): string {
    expect(failure.property, `failure "${failure.reason}" names a property, so the engine would print its value`).toBe("");
    const at = failure.reason.indexOf(":");
    return at > 0 ? failure.reason.slice(0, at).split(/[.[]/)[0]! : "";
}
