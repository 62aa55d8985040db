import { createApiKey, getApiKey, listApiKeys } from "@/server/domain/identity/api-keys";
import { endpoints } from "@/server/rest/endpoints";
import { restRoute } from "@/server/rest/handler";
import { presentApiKey } from "@/server/rest/presenters";

export const GET = restRoute(endpoints.listApiKeys, async ({ db, principal }) => ({
  items: (await listApiKeys(db, principal)).map(presentApiKey),
}));

export const POST = restRoute(endpoints.createApiKey, async ({ db, principal, body }) => {
  const { key, plaintext } = await createApiKey(db, principal, {
    name: body.name,
    scopes: body.scopes,
    expiresAt: body.expiresAt ? new Date(body.expiresAt) : undefined,
  });
  return { ...presentApiKey(await getApiKey(db, principal, key.id)), key: plaintext };
});
