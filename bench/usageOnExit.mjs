// Preloaded into a process a benchmark measures (`node --import ./bench/usageOnExit.mjs …`):
// at exit it writes the whole process's CPU time (every thread) and peak resident set to
// stderr as one line, so the measured command runs exactly as a user runs it.
process.on("exit", () => {
  const usage = process.resourceUsage();
  const figures = { cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6, peakRssMb: Math.round(usage.maxRSS / 1024) };
  process.stderr.write(`\nbench-usage ${JSON.stringify(figures)}\n`);
});
