//! Work split over the machine's cores: samples (`par_map`), and the output positions of one
//! large layer (`par_ranges`). Results come back in order, so nothing depends on the number of
//! cores; overflows recorded on worker threads come back to the caller's thread.

use crate::ir::fixed::{add_overflows, take_overflows};

/// The machine's cores: how many ways work is split. Asked once: std reads the cgroup's CPU
/// quota from /proc and /sys on every call (tens of microseconds).
pub fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |t| t.get()))
}

/// `f(0) .. f(n - 1)` split over the machine's cores, in order; the first error by index wins,
/// so the answer does not depend on the number of cores.
pub fn par_map<T: Send>(
    n: usize,
    f: impl Fn(usize) -> crate::error::Result<T> + Sync,
) -> crate::error::Result<Vec<T>> {
    let parts = on_cores(n, |r| r.map(&f).collect::<crate::error::Result<Vec<T>>>());
    let mut out = Vec::with_capacity(n);
    for p in parts {
        out.extend(p?);
    }
    Ok(out)
}

/// Runs `f` on a thread of its own that does not share the caller's CPU (where the machine
/// lets this process use another): work that should overlap the caller's, not delay it. A
/// thread just created runs first on its creator's CPU here (Linux 6.x on this 2-core VM):
/// with the template parser (1.7 ms of work) the main thread stood still for 1.3 ms at the
/// median, the other core idle, until the scheduler moved one of them (timestamps inside 150
/// compiles of the jet tagger).
pub fn spawn_beside(f: impl FnOnce() + Send + 'static) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: sched_getcpu reads this thread's CPU; the CPU set is a plain bit mask, filled
        // by sched_getaffinity and passed by reference with its size.
        let cpu = unsafe { libc::sched_getcpu() };
        std::thread::spawn(move || {
            let cpu = usize::try_from(cpu)
                .ok()
                .filter(|&c| c < libc::CPU_SETSIZE as usize);
            if let Some(cpu) = cpu {
                // SAFETY: as above; `cpu` is within the set's bits.
                unsafe {
                    let mut set: libc::cpu_set_t = std::mem::zeroed();
                    let size = std::mem::size_of::<libc::cpu_set_t>();
                    if libc::sched_getaffinity(0, size, &mut set) == 0
                        && libc::CPU_COUNT(&set) > 1
                        && libc::CPU_ISSET(cpu, &set)
                    {
                        libc::CPU_CLR(cpu, &mut set);
                        libc::sched_setaffinity(0, size, &set);
                    }
                }
            }
            f()
        });
    }
    #[cfg(not(target_os = "linux"))]
    std::thread::spawn(f);
}

/// Whether `work` (multiply-adds, or values where there are none) pays for threads: a thread's
/// start and join cost tens of microseconds, and more while other threads hold the cores (a
/// small model's compile parses its templates beside).
pub fn worth_threads(work: usize) -> bool {
    work >= 1 << 22 && cores() > 1
}

/// `f` over the ranges of `0..n` one per core, results concatenated in order, when the work
/// (`n` items of `cost` each) is large enough to pay for threads; else `f(0..n)` here.
pub fn par_ranges<T: Send>(
    n: usize,
    cost: usize,
    f: impl Fn(std::ops::Range<usize>) -> Vec<T> + Sync,
) -> Vec<T> {
    if !worth_threads(n.saturating_mul(cost)) {
        return f(0..n);
    }
    on_cores(n, f).into_iter().flatten().collect()
}

/// `f` on one range of `0..n` per core (scoped threads), the results in range order; each
/// worker's overflows added to this thread's.
fn on_cores<T: Send>(n: usize, f: impl Fn(std::ops::Range<usize>) -> T + Sync) -> Vec<T> {
    if n <= 1 || cores() < 2 {
        return vec![f(0..n)];
    }
    let chunk = n.div_ceil(cores()).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .step_by(chunk)
            .map(|start| {
                let f = &f;
                s.spawn(move || (f(start..(start + chunk).min(n)), take_overflows()))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                let (out, over) = h.join().expect("worker thread");
                add_overflows(over);
                out
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::{par_map, par_ranges, spawn_beside};
    use crate::error::Error;

    #[cfg(target_os = "linux")]
    #[test]
    fn a_thread_beside_runs_off_its_creators_cpu() {
        // SAFETY: reads of this thread's CPU and of a thread's CPU set into a plain bit mask.
        let allowed = |set: &mut libc::cpu_set_t| unsafe {
            libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), set) == 0
        };
        let mut ours: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        assert!(allowed(&mut ours));
        let (tx, rx) = std::sync::mpsc::channel();
        spawn_beside(move || {
            let mut theirs: libc::cpu_set_t = unsafe { std::mem::zeroed() };
            tx.send(allowed(&mut theirs).then_some(theirs)).unwrap();
        });
        let theirs = rx.recv().expect("the thread ran").expect("its CPU set");
        let (n, m) = unsafe { (libc::CPU_COUNT(&ours), libc::CPU_COUNT(&theirs)) };
        // Every CPU this thread may use but one (the one it ran on when it spawned: it may
        // have moved since), or the one there is.
        let inside = (0..libc::CPU_SETSIZE as usize)
            .all(|c| unsafe { !libc::CPU_ISSET(c, &theirs) || libc::CPU_ISSET(c, &ours) });
        assert!(inside);
        assert_eq!(m, if n > 1 { n - 1 } else { n });
    }

    #[test]
    fn par_map_keeps_order_and_reports_the_first_error_by_index() {
        let squares = par_map(1000, |i| Ok(i * i)).unwrap();
        assert_eq!(squares, (0..1000).map(|i| i * i).collect::<Vec<_>>());
        assert!(par_map(0, Ok).unwrap().is_empty());
        let err = par_map(1000, |i| {
            if i % 300 == 299 {
                Err(Error::input(format!("sample {i}")))
            } else {
                Ok(i)
            }
        })
        .unwrap_err();
        assert!(err.to_string().contains("sample 299"), "{err}");
    }

    #[test]
    fn par_ranges_keeps_order_and_brings_overflows_home() {
        use crate::ir::FixedType;
        use crate::ir::fixed::take_overflows;
        take_overflows();
        let t = FixedType::fixed(4, 2);
        // Big enough to split: every item overflows once.
        let out = par_ranges(1 << 12, 1 << 12, |r| {
            r.inspect(|_| {
                t.quantize_f64(100.0).unwrap();
            })
            .collect()
        });
        assert_eq!(out, (0..1 << 12).collect::<Vec<_>>());
        let over = take_overflows();
        assert_eq!(over.len(), 1);
        assert_eq!(over[0].count, 1 << 12);
    }
}
