// Railway deploy/rollback figures (README "Benchmarks"), measured on the bundled actions run through the harness
// against the Railway emulator. Prints `BENCH <name> <value> <unit>`; asserts nothing.
//
// Figures:
//   railway.cold_start_to_first_api_call.{median,max}  spawn of the bundled railway-deploy action → first GraphQL
//                                                        request reaching the emulator (5 runs)
//   railway.requests.build5m.subscription               API requests (HTTP + subscriptions opened) spent by one
//                                                        railway-deploy whose build takes 5 minutes (goal ≤ 10)
//   railway.requests.build5m.polling                    the same with subscriptions: false (polling only)
//   railway.requests.build5m_verify.subscription        the root action: the same 5-minute deploy, then verified
//                                                        (Railway's status held for the default 30 s window) (goal ≤ 10)
//   railway.requests.build5m.adopted                    railway-deploy when GitHub autodeploy already started the
//                                                        commit: Railway's deployment is adopted, nothing is sent
// Services have GitHub autodeploy off (this pipeline is the only deployer) unless the figure says adopted.
//   railway.verdict_to_rollback_request.{median,max}    root action, bad release: failed health verdict →
//                                                        deploymentRollback request reaching the emulator (3 runs; goal ≤ 1 s)
// Health verdict latency (healthy/unhealthy flips) is bench/health.bench.ts.
// RAILWAY_BENCH_BUILD_MS shortens the 5-minute build (e.g. for a quick look); the figure is labelled with it.

const { DEFAULT_GITHUB_ENV, runAction, startAction } = await import('../test/harness/index.js');
const { startRailwayEmulator } = await import('../test/railway-emulator/index.js');

const buildMs = Number(process.env.RAILWAY_BENCH_BUILD_MS || 300_000);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] ?? NaN;
};
const bench = (name: string, value: number, unit: string) => console.log(`BENCH ${name} ${Math.round(value)} ${unit}`);

const emu = await startRailwayEmulator({ buildMs: 200, deployMs: 100, tickMs: 50 });
try {
  // --- cold start to first API call ---------------------------------------------------------------------------
  {
    const projectId = emu.addProject({ name: 'cold' }).id;
    const envId = emu.addEnvironment(projectId, { name: 'production' }).id;
    emu.addService(projectId, { name: 'api', source: { repo: 'acme/cold' }, app: false, autoDeploy: false });
    const token = emu.projectToken(projectId, envId);
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = Date.now();
      const result = await runAction({
        action: 'railway-deploy',
        inputs: { 'railway-token': token, 'api-url': emu.url, service: 'api', timeout: '2m' },
      });
      if (result.exitCode !== 0) throw new Error(`cold-start run failed: ${result.stderr || result.stdout}`);
      const first = emu.requests.find((r) => r.at >= t0 && r.headers['project-access-token'] === token);
      if (!first) throw new Error('no API request seen');
      samples.push(first.at - t0);
    }
    bench('railway.cold_start_to_first_api_call.median', median(samples), 'ms');
    bench('railway.cold_start_to_first_api_call.max', Math.max(...samples), 'ms');
  }

  // --- API requests for a deploy whose build takes 5 minutes -------------------------------------------------
  {
    type Mode = 'subscription' | 'polling' | 'verify' | 'adopted';
    const runs = await Promise.all(
      (['subscription', 'polling', 'verify', 'adopted'] as Mode[]).map(async (mode) => {
        const projectId = emu.addProject({ name: `long-${mode}` }).id;
        const envId = emu.addEnvironment(projectId, { name: 'production' }).id;
        // No domain: the root action verifies it by Railway's status (a worker), so only Railway requests count.
        const serviceId = emu.addService(projectId, {
          name: 'api',
          source: { repo: 'acme/long' },
          app: false,
          domain: mode !== 'verify',
          autoDeploy: mode === 'adopted',
        }).id;
        const token = emu.projectToken(projectId, envId);
        const t0 = Date.now();
        if (mode === 'adopted')
          await emu.push(serviceId, DEFAULT_GITHUB_ENV.GITHUB_SHA as string, { script: { buildMs } });
        else emu.scriptDeployment(serviceId, { buildMs });
        const result = await runAction({
          action: mode === 'verify' ? '.' : 'railway-deploy',
          inputs: {
            'railway-token': token,
            'api-url': emu.url,
            service: 'api',
            timeout: '20m',
            subscriptions: String(mode !== 'polling'),
          },
          timeoutMs: buildMs + 5 * 60_000,
        });
        if (result.exitCode !== 0) throw new Error(`${mode} run failed: ${result.stderr || result.stdout}`);
        const requests = emu.requests.filter((r) => r.at >= t0 && r.headers['project-access-token'] === token);
        return {
          mode,
          count: requests.length,
          wallMs: Date.now() - t0,
          ops: requests.map((r) => r.operationName ?? '?'),
        };
      }),
    );
    const label = buildMs === 300_000 ? 'build5m' : `build${Math.round(buildMs / 1000)}s`;
    const names: Record<Mode, string> = {
      subscription: `${label}.subscription`,
      polling: `${label}.polling`,
      verify: `${label}_verify.subscription`,
      adopted: `${label}.adopted`,
    };
    for (const r of runs) {
      bench(`railway.requests.${names[r.mode]}`, r.count, 'requests');
      const byOp = new Map<string, number>();
      for (const op of r.ops) byOp.set(op, (byOp.get(op) ?? 0) + 1);
      console.log(
        `  ${r.mode}: ${[...byOp].map(([op, n]) => `${op}×${n}`).join(', ')} in ${(r.wallMs / 1000).toFixed(0)} s`,
      );
    }
  }

  // --- failed verdict → rollback request ---------------------------------------------------------------------
  {
    const projectId = emu.addProject({ name: 'verdict' }).id;
    const envId = emu.addEnvironment(projectId, { name: 'production' }).id;
    const token = emu.projectToken(projectId, envId);
    const samples: number[] = [];
    for (let i = 0; i < 3; i++) {
      const name = `svc${i}`;
      const serviceId = emu.addService(projectId, {
        name,
        source: { repo: 'acme/verdict' },
        app: { version: 'v1' },
        autoDeploy: false,
      }).id;
      const good = emu.supersede(serviceId, { app: { version: 'v1' } });
      await emu.waitForStatus(good, 'SUCCESS', 30_000);
      emu.scriptDeployment(serviceId, { app: { version: 'v2', healthy: false } });
      const running = startAction({
        action: '.',
        inputs: {
          'railway-token': token,
          'api-url': emu.url,
          service: name,
          timeout: '2m',
          'health-url': `${emu.serviceUrl(serviceId)}/health`,
          'health-interval': '200ms',
          'health-timeout': '2s',
          'verify-window': '0s',
        },
      });
      const result = await running.result;
      const entry = (JSON.parse(result.outputs.deployments ?? '[]') as Array<{ verifiedAt: string | null }>)[0];
      const rollback = emu.requests.find(
        (r) => r.operationName === 'RollbackDeployment' && (r.variables as { id?: string }).id === good,
      );
      if (!entry?.verifiedAt || !rollback)
        throw new Error(`no verdict/rollback recorded: ${result.stderr || result.stdout}`);
      samples.push(rollback.at - Date.parse(entry.verifiedAt));
    }
    bench('railway.verdict_to_rollback_request.median', median(samples), 'ms');
    bench('railway.verdict_to_rollback_request.max', Math.max(...samples), 'ms');
  }
} finally {
  await emu.close();
}
