// Preloaded (node --import) into every process a test spawns: when the test process
// that started it is gone (a vitest worker killed, a crashed run), this process ends
// too, instead of living on and working on the next file's database.
// The spawner names itself: by the time this runs, the parent may already be gone.
const parent = Number(process.env.ELEVATE_TEST_PARENT_PID) || process.ppid;
const timer = setInterval(() => {
  let gone = false;
  try {
    process.kill(parent, 0);
  } catch {
    gone = true;
  }
  if (gone) process.kill(process.pid, "SIGKILL");
}, 500);
timer.unref();
