import { describe, expect, it } from "vitest";
import { withSecretOutputs } from "../../infra/dynamic/secret-outputs";

interface Outs {
    connection: unknown;
    secret: string;
}

describe("withSecretOutputs", () => {
    it("adds the resource's secret outputs after the caller's, keeping the caller's other options and leaving them unchanged", () => {
        expect(withSecretOutputs<Outs>(undefined, "connection")).toEqual({ additionalSecretOutputs: ["connection"] });
        const given = { protect: true, additionalSecretOutputs: ["other"] };
        expect(withSecretOutputs<Outs>(given, "connection", "secret")).toEqual({ protect: true, additionalSecretOutputs: ["other", "connection", "secret"] });
        expect(given.additionalSecretOutputs).toEqual(["other"]);
        // @ts-expect-error a name that is not one of the resource's outputs fails tsc
        withSecretOutputs<Outs>(undefined, "conection");
    });
});
