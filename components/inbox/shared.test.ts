import { describe, expect, it } from "vitest";
import {
  describeCommitAction,
  filtersFromParams,
  filtersToSearch,
  initialsOf,
  isTypingTarget,
  listInputOf,
  neighbourId,
  segmentsText,
  splitSources,
  type InboxSource,
} from "./shared";

const params = (query: string) => new URLSearchParams(query);

describe("inbox filters in the URL", () => {
  it("reads the dashboard's links, in any case, and writes them back canonically", () => {
    const pending = filtersFromParams(params("status=PENDING"));
    expect(pending).toMatchObject({ tab: "open", openView: "pending" });
    expect(listInputOf(pending).status).toBe("PENDING");
    expect(filtersToSearch(pending)).toBe("status=pending");

    const accepted = filtersFromParams(params("status=accepted&kind=EMAIL&age=4&assignee=me&agent=agent_1"));
    expect(listInputOf(accepted)).toMatchObject({ status: "ACCEPTED", kind: "EMAIL", minAgeHours: 4, assignee: "me", agentId: "agent_1" });
    expect(filtersToSearch(accepted)).toBe("status=accepted&agent=agent_1&kind=email&age=4&assignee=me");
  });

  it("falls back to the open queue for unknown values and leaves the defaults out of the URL", () => {
    const filters = filtersFromParams(params("status=whatever&kind=fax&age=-3"));
    expect(filters).toMatchObject({ tab: "open", openView: "open", kind: "", minAgeHours: 0 });
    expect(listInputOf(filters).status).toBe("OPEN");
    expect(filtersToSearch(filters)).toBe("");
    expect(listInputOf(filtersFromParams(params("status=all"))).status).toBeUndefined();
  });
});

describe("j and k", () => {
  const ids = ["a", "b", "c"];

  it("moves to the neighbours of the open draft and stops at the ends", () => {
    expect(neighbourId(ids, "b", 1, 1)).toBe("c");
    expect(neighbourId(ids, "b", 1, -1)).toBe("a");
    expect(neighbourId(ids, "c", 2, 1)).toBeNull();
    expect(neighbourId(ids, "a", 0, -1)).toBeNull();
  });

  it("starts at the top (j) or the bottom (k) when nothing is open", () => {
    expect(neighbourId(ids, null, null, 1)).toBe("a");
    expect(neighbourId(ids, null, null, -1)).toBe("c");
    expect(neighbourId([], null, null, 1)).toBeNull();
  });

  it("continues from the place of a draft that a decision took out of the list", () => {
    // "b" sat at index 1 and was accepted: the list is now a, c.
    expect(neighbourId(["a", "c"], "b", 1, 1)).toBe("c");
    expect(neighbourId(["a", "c"], "b", 1, -1)).toBe("a");
    // It was the last one.
    expect(neighbourId(["a", "b"], "c", 2, 1)).toBe("b");
  });

  it("ignores key presses in text fields but not on buttons or checkboxes", () => {
    expect(isTypingTarget({ tagName: "TEXTAREA" } as unknown as EventTarget)).toBe(true);
    expect(isTypingTarget({ tagName: "INPUT", type: "text" } as unknown as EventTarget)).toBe(true);
    expect(isTypingTarget({ tagName: "SELECT" } as unknown as EventTarget)).toBe(true);
    expect(isTypingTarget({ tagName: "DIV", isContentEditable: true } as unknown as EventTarget)).toBe(true);
    expect(isTypingTarget({ tagName: "INPUT", type: "checkbox" } as unknown as EventTarget)).toBe(false);
    expect(isTypingTarget({ tagName: "BUTTON" } as unknown as EventTarget)).toBe(false);
    expect(isTypingTarget(null)).toBe(false);
  });
});

describe("what accepting does, in words", () => {
  it("names the recipient, the subject and the tool for an email", () => {
    const text = segmentsText(describeCommitAction({ tool: "send_email", args: { to: "rahul.mehta@example.com", subject: "Re: Where are my chairs?" }, bodyArg: "body" }));
    expect(text).toBe("Accepting sends an email to rahul.mehta@example.com with subject “Re: Where are my chairs?” via send_email. The text you accept goes in as body.");
  });

  it("lists any other tool's preset arguments", () => {
    const text = segmentsText(describeCommitAction({ tool: "create_page", args: { space: "OPS", parent: 42 }, bodyArg: "content", titleArg: "title" }));
    expect(text).toBe("Accepting calls create_page with space = OPS and parent = 42. The text you accept goes in as content and the title as title.");
  });

  it("says so when accepting calls no tool", () => {
    expect(segmentsText(describeCommitAction(null))).toMatch(/No tool is called/);
  });
});

describe("sources and people", () => {
  const source = (seq: number, tool: string): InboxSource => ({ eventId: `e${seq}`, seq, tool, status: "OK", args: {}, result: null });

  it("separates what the agent drew on from what the decision caused", () => {
    const { context, afterDecision } = splitSources([source(4, "read_customer_email"), source(7, "lookup_order"), source(12, "send_email")], [{ seq: 9 }]);
    expect(context.map((s) => s.tool)).toEqual(["read_customer_email", "lookup_order"]);
    expect(afterDecision.map((s) => s.tool)).toEqual(["send_email"]);
  });

  it("makes initials from a name, else from the address", () => {
    expect(initialsOf({ id: "1", email: "maya@acme.test", name: "Maya Singh" })).toBe("MS");
    expect(initialsOf({ id: "2", email: "ops@acme.test", name: null })).toBe("O");
  });
});
