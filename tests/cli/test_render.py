"""Rendering of plans, drift, diagnostics and apply events; colour; Ctrl-C; internal errors."""

from __future__ import annotations

import io

from click.testing import CliRunner

from engine import render
from engine.applier import ApplyEvent, ApplyResult, CancelToken
from engine.cli.app import BcdrGroup, main
from engine.plan import Action, Change, OutputChange, Plan
from engine.ui import InterruptHandler, _console
from sdk.diagnostics import Diagnostics, SourceRange, error, warning
from sdk.values import UNKNOWN


def change(action: Action, before=None, after=None, **kw) -> Change:
    address = kw.pop("address", "disk.a")
    t, n = address.split(".")
    return Change(address, t, n, None, "test", action, before, after, **kw)


WORDS = {  # a provider's words for its cost keys: the renderer knows none of them
    "bytes_to_snapshot": "{bytes} to snapshot",
    "bytes_to_copy": "{bytes} to copy across regions",
    "blocks_to_restore": "{count} blocks to restore",
}


def test_notes_and_cost_per_resource_and_totalled():
    plan = Plan("L", 1)
    plan.changes = [
        change(
            Action.CREATE,
            after={"id": UNKNOWN, "size_gb": 4},
            notes=["first snapshot is a full copy"],
            cost={"bytes_to_snapshot": 3 * 1024 * 1024, "bytes_to_copy": 0},
            cost_words=WORDS,
        ),
        change(
            Action.CREATE,
            address="disk.b",
            after={"id": UNKNOWN},
            cost={"bytes_to_snapshot": 1024 * 1024, "blocks_to_restore": 12},
            cost_words=WORDS,
        ),
    ]
    text = render.plan_text(plan).plain
    assert "        # note: first snapshot is a full copy" in text
    assert "        # cost: 3.0 MiB to snapshot" in text
    assert "# cost: 1.0 MiB to snapshot, 12 blocks to restore" in text
    assert "Cost: 4.0 MiB to snapshot, 12 blocks to restore." in text
    assert "to copy across regions" not in text
    assert "Plan: 2 to add, 0 to change, 0 to destroy." in text


def test_cost_without_words_reads_key_and_amount():
    plan = Plan("L", 1)
    plan.changes = [change(Action.CREATE, after={"id": UNKNOWN}, cost={"widgets_moved": 7})]
    assert "# cost: widgets moved: 7" in render.plan_text(plan).plain


def test_drift_lists_each_changed_attribute():
    plan = Plan("L", 1, mode="refresh-only")
    plan.drift = [
        change(
            Action.UPDATE,
            {"id": "1", "size_gb": 4, "sku": "x"},
            {"id": "1", "size_gb": 8, "sku": "x"},
        ),
        change(Action.DELETE, {"id": "2"}, None, address="disk.gone"),
    ]
    text = render.plan_text(plan).plain
    assert "Objects have changed outside of bcdr" in text
    assert "  # disk.a has changed" in text
    assert "      ~ size_gb = 4 -> 8" in text
    assert "sku" not in text and "(2 unchanged attributes hidden)" in text
    assert "  # disk.gone has been deleted" in text
    assert "refresh-only plan" in text
    empty = render.plan_text(Plan("L", 1, mode="refresh-only")).plain
    assert "No changes. Your infrastructure still matches the configuration." in empty


def test_sensitive_values_never_printed():
    c = change(
        Action.UPDATE,
        {"id": "1", "password": "old-secret"},
        {"id": "1", "password": "new-secret"},
        sensitive_attrs=["password"],
    )
    plan = Plan("L", 1, changes=[c], outputs=[OutputChange("pw", Action.CREATE, None, "x", True)])
    text = render.plan_text(plan).plain
    assert "secret" not in text
    assert "~ password = (sensitive value)" in text
    assert "+ pw = (sensitive value)" in text


def test_output_only_changes():
    plan = Plan("L", 1, outputs=[OutputChange("n", Action.UPDATE, 1, 2)])
    text = render.plan_text(plan).plain
    assert "Changes to Outputs:\n  ~ n = 1 -> 2" in text
    assert "without changing any real infrastructure" in text


def test_diagnostic_names_file_line_block_and_rule():
    d = error(
        "Ultra disks cannot be snapshotted",
        "Use Premium_LRS for disks you protect.",
        SourceRange("main.hcl", 2),
        address="managed_disk.data",
        rule="RP-6",
    )
    source = {"main.hcl": ['resource "managed_disk" "data" {', '  sku = "UltraSSD_LRS"']}
    text = render.diagnostics_text(Diagnostics([warning("heads up"), d]), source).plain
    assert text.index("Error: Ultra") < text.index("Warning: heads up")
    assert '  on main.hcl line 2, in resource "managed_disk" "data":' in text
    assert '    2:   sku = "UltraSSD_LRS"' in text
    assert "Use Premium_LRS for disks you protect." in text
    assert "(platform rule RP-6)" in text


def test_event_lines_like_terraform():
    def line(kind, action=Action.CREATE, **kw):
        return render.event_text(ApplyEvent(kind, "disk.a", action, **kw)).plain

    assert line("start") == "disk.a: Creating..."
    assert line("done", elapsed=65.2, id="x1") == "disk.a: Creation complete after 1m5s [id=x1]"
    assert line("start", Action.DELETE, id="x1") == "disk.a: Destroying... [id=x1]"
    assert line("done", Action.DELETE, elapsed=0.1) == "disk.a: Destruction complete after 0s"
    assert line("failed", Action.UPDATE, message="boom").startswith(
        "disk.a: Modifications failed after 0s: boom"
    )
    copying = line("progress", message="copying", done=8 << 20, total=32 << 20)
    assert copying == "disk.a: copying: 8.0 MiB of 32.0 MiB (25%)"
    skipped = line("skipped", message="skipped: disk.b did not complete")
    assert skipped == "disk.a: Skipped (disk.b did not complete)"


def test_apply_summary_for_success_and_failure():
    ok = ApplyResult(added=1)
    assert "Apply complete! Resources: 1 added, 0 changed, 0 destroyed." in (
        render.apply_summary_text(ok).plain
    )
    bad = ApplyResult(added=1, failed=[("disk.a", Diagnostics())], skipped=["disk.b"])
    text = render.apply_summary_text(bad).plain
    assert "Apply failed. Resources: 1 added" in text
    assert "Failed: disk.a" in text and "Not attempted: disk.b" in text
    stopped = ApplyResult(interrupted=True)
    assert "Apply interrupted." in render.apply_summary_text(stopped).plain


def test_colour_only_when_asked():
    plan = Plan("L", 1, changes=[change(Action.CREATE, after={"id": UNKNOWN})])
    coloured, plain = io.StringIO(), io.StringIO()
    _console(coloured, True).print(render.plan_text(plan))
    _console(plain, False).print(render.plan_text(plan))
    assert "\x1b[" in coloured.getvalue()
    assert "\x1b[" not in plain.getvalue()
    assert "+ resource" in plain.getvalue()


def test_ctrl_c_first_stops_gracefully_second_exits_at_once():
    token = CancelToken()
    said, exits, released = [], [], []
    handler = InterruptHandler(
        stop=token.request_stop,
        say=said.append,
        on_exit=lambda: released.append(True),
        exit_now=exits.append,
    )
    handler()
    assert token.stopping
    assert "Gracefully shutting down..." in said[0]
    assert exits == []
    handler()
    assert exits == [130] and released == [True]
    assert "state may be missing" in said[1]


def test_unexpected_exception_is_an_internal_error_without_traceback(monkeypatch):
    group = BcdrGroup("bcdr")

    @group.command()
    def boom() -> None:
        """Fail like a bug would."""
        raise RuntimeError("kaput")

    monkeypatch.delenv("BCDR_DEBUG", raising=False)
    result = CliRunner().invoke(group, ["boom"])
    assert result.exit_code == 1
    assert "Error: internal error: RuntimeError: kaput" in result.output
    assert "report" in result.output
    assert "Traceback" not in result.output
    debug = CliRunner().invoke(group, ["boom"], env={"BCDR_DEBUG": "1"})
    assert debug.exit_code == 1 and "Traceback" in debug.output


def test_click_usage_errors_keep_exit_code_2():
    bad = CliRunner().invoke(main, ["plan", "-no-such-flag"])
    assert bad.exit_code == 2
    assert "No such option" in bad.output
