"""``make stack-check``: cfn-lint on every template the stack synthesizes (dev, and prod with
a certificate), and checkov on those templates and on the Dockerfile.

Each accepted finding is suppressed on its resource with its reason in
``infra/static_checks.py`` (the Dockerfile's, in a comment beside it), so anything new
fails. The templates are kept in ``cdk.out/stack-check/`` so a finding's file and line can
be opened. Offline: no credentials, and checkov downloads nothing (``--skip-download``).

    python -m devtools.stack_checks --checkov PATH_TO_CHECKOV
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk

from infra.app import build

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER_IDS = {"application_id": "100000000000000001", "public_key": "ab" * 32}
STAGES = {
    "dev": {"stage": "dev"},
    "prod": {
        "stage": "prod",
        "certificate_arn": "arn:aws:acm:us-east-1:111111111111:certificate/placeholder",
        "domain_name": "bot.example.org",
        "alarm_email": "ops@example.org",
    },
}


def synthesize(outdir: Path) -> list[Path]:
    """One template per stage, each from its own app, as ``cdk synth`` would write them."""
    templates = []
    for stage, context in STAGES.items():
        app = cdk.App(outdir=str(outdir / stage), context={**context, **PLACEHOLDER_IDS})
        stack = build(app)
        app.synth()
        templates.append(outdir / stage / f"{stack.stack_name}.template.json")
    return templates


def run(title: str, argv: list[str]) -> bool:
    print(f"== {title}", flush=True)
    passed = subprocess.run(argv, cwd=ROOT, check=False).returncode == 0
    print(f"-- {title}: {'passed' if passed else 'FAILED'}", flush=True)
    return passed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkov", required=True, help="the checkov executable")
    args = parser.parse_args(argv)
    outdir = ROOT / "cdk.out" / "stack-check"
    shutil.rmtree(outdir, ignore_errors=True)
    templates = synthesize(outdir)
    checkov = [args.checkov, "--quiet", "--compact", "--skip-download"]
    cfn_lint = str(Path(sys.executable).parent / "cfn-lint")
    ok = run("cfn-lint", [cfn_lint, *map(str, templates)])
    for template in templates:
        ok &= run(
            f"checkov {template.name}",
            [*checkov, "--framework", "cloudformation", "-f", str(template)],
        )
    ok &= run(
        "checkov docker/Dockerfile",
        [*checkov, "--framework", "dockerfile", "-f", "docker/Dockerfile"],
    )
    print("stack checks: " + ("passed" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
