"""What a channel's post must do next, given where it stands and whether the article is live.

A pure decision, so every transition can be read in one place:

    no post     + live      -> create  (sending in auto mode, else ready)
    retracted   + live      -> renew   (a new generation: new key, sent again)
    sending     + live      -> resend  (an interrupted or retried send, same key)
    ready       + live      -> recompose, if the article changed and no editor edited the text
    sent/failed + live      -> nothing (an update never posts again)
    retracting  + live      -> retract (finish it; then renew)
    ready       + not live  -> withdraw (never sent: nothing to delete)
    sending     + not live  -> retract if a request may have taken effect, else withdraw
    sent/retracting + not live -> retract
    failed      + not live  -> retract if something may be out there, else nothing
"""

from __future__ import annotations

from enum import Enum

from consumers.social.store import Post


class Plan(Enum):
    NOTHING = "nothing"
    CREATE = "create"
    RENEW = "renew"
    RESEND = "resend"
    RECOMPOSE = "recompose"
    RETRACT = "retract"
    WITHDRAW = "withdraw"


SENDS = (Plan.CREATE, Plan.RENEW, Plan.RESEND)


def plan(post: Post | None, live: bool, *, text_changed: bool = False) -> Plan:
    if post is None:
        return Plan.CREATE if live else Plan.NOTHING
    out_there = post.remote_id is not None or post.maybe_sent
    match post.status, live:
        case "retracted", True:
            return Plan.RENEW
        case "sending", True:
            return Plan.RESEND
        case "ready", True:
            return Plan.RECOMPOSE if text_changed and post.edited_by is None else Plan.NOTHING
        case "retracting", _:
            return Plan.RETRACT
        case "ready", False:
            return Plan.WITHDRAW
        case "sending", False:
            return Plan.RETRACT if out_there else Plan.WITHDRAW
        case "sent", False:
            return Plan.RETRACT
        case "failed", False:
            return Plan.RETRACT if out_there else Plan.NOTHING
    return Plan.NOTHING
