import { z } from "zod";
import { getGovernanceSettings, updateGovernanceSettings, type GovernanceSettings } from "../../domain/governance/settings";
import {
  SetPolicyEnabledInput,
  TestPolicyCallInput,
  createPolicy,
  deletePolicy,
  listPolicies,
  listPolicyTargets,
  setPolicyEnabled,
  testPolicyCall,
  updatePolicy,
  type CreatePolicyInput,
  type UpdatePolicyInput,
} from "../../domain/policy/policies";
import { createTRPCRouter, scopedProcedure } from "../init";

const IdInput = z.object({ id: z.string().min(1) });
const isObject = (value: unknown) => typeof value === "object" && value !== null && !Array.isArray(value);
// Policies and settings are validated by the domain, which keys errors per field (and per condition row) for the forms.
const PolicyBody = z.custom<CreatePolicyInput>(isObject, "Send a policy.");
const PolicyUpdateBody = z.custom<UpdatePolicyInput>(isObject, "Send a policy.");
const SettingsBody = z.custom<z.input<typeof GovernanceSettings>>(isObject, "Send the settings.");

const governanceRouter = createTRPCRouter({
  get: scopedProcedure("policies:read").query(({ ctx }) => getGovernanceSettings(ctx.db, ctx.principal)),
  update: scopedProcedure("policies:manage")
    .input(SettingsBody)
    .mutation(({ ctx, input }) => updateGovernanceSettings(ctx.db, ctx.principal, input)),
});

export const policiesRouter = createTRPCRouter({
  list: scopedProcedure("policies:read").query(({ ctx }) => listPolicies(ctx.db, ctx.principal)),
  targets: scopedProcedure("policies:read").query(({ ctx }) => listPolicyTargets(ctx.db, ctx.principal)),
  create: scopedProcedure("policies:manage")
    .input(PolicyBody)
    .mutation(({ ctx, input }) => createPolicy(ctx.db, ctx.principal, input)),
  update: scopedProcedure("policies:manage")
    .input(PolicyUpdateBody)
    .mutation(({ ctx, input }) => updatePolicy(ctx.db, ctx.principal, input)),
  delete: scopedProcedure("policies:manage")
    .input(IdInput)
    .mutation(({ ctx, input }) => deletePolicy(ctx.db, ctx.principal, input.id)),
  setEnabled: scopedProcedure("policies:manage")
    .input(SetPolicyEnabledInput)
    .mutation(({ ctx, input }) => setPolicyEnabled(ctx.db, ctx.principal, input)),
  test: scopedProcedure("policies:read")
    .input(TestPolicyCallInput)
    .mutation(({ ctx, input }) => testPolicyCall(ctx.db, ctx.principal, input)),
  governance: governanceRouter,
});
