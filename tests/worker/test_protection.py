"""Scale-in protection against a fake ECS agent on loopback."""

from __future__ import annotations

import asyncio

from aiohttp import web

from devtools import loopback
from tests.conftest import base_env, running_worker
from tests.worker.test_end_to_end import countdown


class FakeAgent:
    def __init__(self) -> None:
        self.states: list[dict] = []
        self.fail = False

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.states.append(body)
        if self.fail:
            return web.json_response({"failure": {"Reason": "injected"}}, status=500)
        return web.json_response({"protection": {"ProtectionEnabled": body["ProtectionEnabled"]}})


async def start_agent(agent: FakeAgent) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_put("/v3/task-protection/v1/state", agent.handle)
    runner, root = await loopback.serve(app)
    return runner, f"{root}/v3"


async def test_protected_while_jobs_run_and_released_when_idle(api, moto, queues, discord):
    agent = FakeAgent()
    runner, uri = await start_agent(agent)
    try:
        env = base_env(moto, queues, discord.url, ECS_AGENT_URI=uri)
        async with running_worker(env):
            payloads = [countdown(1), countdown(2)]
            for payload in payloads:
                await api.post(payload)
            await discord.wait_for(
                lambda: "Countdown of 2 s finished" in discord.edits(payloads[1]["token"]),
                timeout=20,
            )
            async with asyncio.timeout(5):
                while len(agent.states) < 2:
                    await asyncio.sleep(0.05)
    finally:
        await runner.cleanup()
    # on while busy (once, not per job), off when the last job ended
    assert agent.states[0]["ProtectionEnabled"] is True
    assert agent.states[0]["ExpiresInMinutes"] == 60
    assert agent.states[-1] == {"ProtectionEnabled": False}
    assert [s["ProtectionEnabled"] for s in agent.states].count(True) == 1


async def test_an_agent_failure_does_not_hold_jobs_up(api, moto, queues, discord):
    agent = FakeAgent()
    agent.fail = True
    runner, uri = await start_agent(agent)
    try:
        env = base_env(moto, queues, discord.url, ECS_AGENT_URI=uri)
        async with running_worker(env):
            payload = countdown(1)
            await api.post(payload)
            await discord.wait_for(
                lambda: "Countdown of 1 s finished" in discord.edits(payload["token"]),
                timeout=20,
            )
    finally:
        await runner.cleanup()
    assert agent.states
