"""The built-in provider: the ``bcdr_data`` resource (like Terraform's ``terraform_data``).

``bcdr_data`` stores a value in state and nothing else: ``input`` (any value), computed
``output`` (equal to ``input`` after apply) and ``id`` (a uuid4 made at create), and
``triggers_replace`` (any value; a change replaces the resource). Always holds: the object
lives only in state, so ``read`` returns the prior state unchanged and ``import`` is refused;
``output`` is derived from ``input``, so it is sensitive (sealed, masked) when ``input`` is.
"""

from __future__ import annotations

import uuid
from typing import Any

from providers.defaults import plan_from_schema
from sdk import (
    ApplyRequest,
    ApplyResponse,
    Attribute,
    DeleteRequest,
    DeleteResponse,
    ImportRequest,
    ImportResponse,
    PlanRequest,
    PlanResponse,
    ProviderContext,
    ReadRequest,
    ReadResponse,
    Schema,
    ValidateRequest,
    ValidateResponse,
)
from sdk.diagnostics import Diagnostics, error
from sdk.values import UNKNOWN

EXAMPLE = """\
resource "bcdr_data" "settings" {
  input = {
    retention_days = 7
    regions        = ["eastus", "westus"]
  }
}

resource "bcdr_data" "copy" {
  input            = bcdr_data.settings.output.regions
  triggers_replace = bcdr_data.settings.output.retention_days
}
"""


BCDR_DATA = Schema(
    attributes={
        "input": Attribute(type="any", optional=True, description="any value to store"),
        "triggers_replace": Attribute(
            type="any",
            optional=True,
            force_new=True,
            description="any value; when it changes, the resource is replaced",
        ),
        "output": Attribute(
            type="any",
            computed=True,
            derived_from=("input",),
            description="input, after apply (sensitive when input is)",
        ),
        "id": Attribute(type="string", computed=True, description="a uuid made at create"),
    },
    description="A value kept in state: input in, output after apply.",
    example=EXAMPLE,
)


class BuiltinProvider:
    """Serves ``bcdr_data``; needs no configuration."""

    name = "builtin"

    def schemas(self) -> dict[str, Schema]:
        return {"bcdr_data": BCDR_DATA}

    def configure(self, ctx: ProviderContext) -> Diagnostics:
        diags = Diagnostics()
        for key in ctx.config:
            diags.append(
                error(
                    f'The builtin provider has no argument "{key}"',
                    'provider "builtin" takes no arguments; remove the line',
                    ctx.config_range,
                )
            )
        return diags

    def validate(self, req: ValidateRequest) -> ValidateResponse:
        return ValidateResponse()

    def read(self, req: ReadRequest) -> ReadResponse:
        return ReadResponse(new_state=req.prior_state)

    def plan(self, req: PlanRequest) -> PlanResponse:
        resp = plan_from_schema(BCDR_DATA, req.prior_state, req.proposed)
        planned = resp.planned_state
        if planned is None:
            return resp
        prior = req.prior_state
        if prior is None or resp.requires_replace:
            planned["id"] = UNKNOWN
            planned["output"] = UNKNOWN
        elif _differs(planned.get("input"), prior.get("input")):
            planned["output"] = UNKNOWN
        else:
            planned["output"] = prior.get("output")
        return resp

    def apply(self, req: ApplyRequest) -> ApplyResponse:
        state = dict(req.planned_state)
        prior = req.prior_state
        state["id"] = prior["id"] if prior and prior.get("id") else str(uuid.uuid4())
        state["output"] = state.get("input")
        return ApplyResponse(new_state=state)

    def delete(self, req: DeleteRequest) -> DeleteResponse:
        return DeleteResponse()

    def import_resource(self, req: ImportRequest) -> ImportResponse:
        return ImportResponse(
            state=None,
            diagnostics=Diagnostics(
                [
                    error(
                        f"{req.address} cannot be imported",
                        "bcdr_data has no remote object: it lives only in state. "
                        "Remove the import and let apply create it.",
                        address=req.address,
                    )
                ]
            ),
        )

    def close(self) -> None:
        return None


def _differs(a: Any, b: Any) -> bool:
    return a is UNKNOWN or b is UNKNOWN or a != b


def provider() -> BuiltinProvider:
    """Entry point ``bcdr.providers: builtin``."""
    return BuiltinProvider()
