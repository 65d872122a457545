//! What `--stats` prints when a run ends: the run's totals, and the time each phase took, wall
//! clock and CPU (all threads), with its throughput.
//!
//! A batch job over a corpus wants to know how fast it went and where the time went without a
//! profiler: the phases are the run's passes ([`crate::pipeline::run`]). Times never go into the
//! report, whose bytes depend only on the input.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use crate::report::Totals;

/// The time one phase of a run took.
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    /// What the phase does, as printed.
    pub name: &'static str,
    /// Wall-clock time.
    pub wall: Duration,
    /// CPU time of the whole process (every thread, user and system), when the platform tells it.
    pub cpu: Option<Duration>,
    /// Whether the phase reads every input, so that its MB/s over the bytes read means something.
    pub reads_input: bool,
}

/// Times a run's phases one after the other: each [`PhaseClock::lap`] (or
/// [`PhaseClock::lap_over_input`]) ends a phase.
#[derive(Debug)]
pub struct PhaseClock {
    started: Instant,
    started_cpu: Option<Duration>,
    phases: Vec<Phase>,
}

impl PhaseClock {
    /// A clock whose first phase starts now.
    pub fn start() -> Self {
        PhaseClock { started: Instant::now(), started_cpu: process_cpu_time(), phases: Vec::new() }
    }

    /// Ends the phase running since the last lap (or the start) as `name`, and starts the next.
    pub fn lap(&mut self, name: &'static str) {
        self.end_phase(name, false);
    }

    /// [`PhaseClock::lap`] for a phase that read every input.
    pub fn lap_over_input(&mut self, name: &'static str) {
        self.end_phase(name, true);
    }

    fn end_phase(&mut self, name: &'static str, reads_input: bool) {
        let (now, now_cpu) = (Instant::now(), process_cpu_time());
        let cpu = now_cpu.zip(self.started_cpu).map(|(now, then)| now.saturating_sub(then));
        self.phases.push(Phase { name, wall: now - self.started, cpu, reads_input });
        (self.started, self.started_cpu) = (now, now_cpu);
    }

    /// The phases ended so far, in order.
    pub fn into_phases(self) -> Vec<Phase> {
        self.phases
    }
}

/// CPU time the process has used so far, summed over its threads (user and system); `None`
/// where the platform does not tell it.
#[cfg(unix)]
pub fn process_cpu_time() -> Option<Duration> {
    let usage = resource_usage()?;
    let time = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).ok()?)
            .checked_add(Duration::from_micros(u64::try_from(t.tv_usec).ok()?))
    };
    time(usage.ru_utime)?.checked_add(time(usage.ru_stime)?)
}

/// The most memory the process has held resident so far, in bytes; `None` where the platform
/// does not tell it.
#[cfg(unix)]
pub fn process_peak_memory() -> Option<u64> {
    let max_rss = u64::try_from(resource_usage()?.ru_maxrss).ok()?;
    // macOS gives bytes, Linux and the BSDs kilobytes.
    let unit = if cfg!(any(target_os = "macos", target_os = "ios")) { 1 } else { 1024 };
    max_rss.checked_mul(unit)
}

/// CPU time the process has used so far: not told on this platform.
#[cfg(not(unix))]
pub fn process_cpu_time() -> Option<Duration> {
    None
}

/// The most memory the process has held resident so far: not told on this platform.
#[cfg(not(unix))]
pub fn process_peak_memory() -> Option<u64> {
    None
}

/// `getrusage(RUSAGE_SELF)`: what the process and its threads have used so far.
#[cfg(unix)]
fn resource_usage() -> Option<libc::rusage> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `getrusage` writes one `rusage` into the memory it is given, which is ours, zeroed
    // and of the right type; RUSAGE_SELF is always a valid `who`.
    #[allow(unsafe_code)]
    let (done, usage) = unsafe {
        let done = libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        (done, usage.assume_init())
    };
    (done == 0).then_some(usage)
}

/// The `--stats` text: a line of totals (inputs, documents, bytes, blocks by decision,
/// near-duplicates, skipped and failed) and a table of `phases` with each one's wall and CPU
/// seconds, the cores it kept busy on average, and, for the phases that read every input and the
/// whole run, MB/s over the bytes read; the run's `peak_memory` (resident, in bytes) ends the
/// first line when it is known. Every line starts with `textsift: `, as the run's other
/// messages on standard error do.
pub fn render(
    totals: &Totals,
    inputs: usize,
    failures: usize,
    phases: &[Phase],
    peak_memory: Option<u64>,
) -> String {
    let mb = |bytes: u64| bytes as f64 / 1e6;
    let mut text = String::new();
    let total_wall: Duration = phases.iter().map(|p| p.wall).sum();
    let _ = write!(
        text,
        "textsift: {inputs} inputs, {} documents, {} read, {} written, {:.3} s ({:.1} MB/s)",
        totals.documents,
        size(totals.bytes_in),
        size(totals.bytes_out),
        total_wall.as_secs_f64(),
        mb(totals.bytes_in) / total_wall.as_secs_f64().max(1e-9),
    );
    match peak_memory {
        Some(bytes) => {
            let _ = writeln!(text, ", peak memory {}", size(bytes));
        }
        None => text.push('\n'),
    }
    let counts = &totals.counts;
    let dropped: u64 = counts.dropped.iter().map(|(_, n)| n).sum();
    let by_reason: Vec<String> =
        counts.dropped.iter().filter(|&(_, n)| n > 0).map(|(kind, n)| format!("{kind} {n}")).collect();
    let _ = write!(text, "textsift: {} blocks: {} kept, {dropped} dropped", counts.blocks, counts.kept);
    if !by_reason.is_empty() {
        let _ = write!(text, " ({})", by_reason.join(", "));
    }
    let _ = writeln!(
        text,
        "; {} near-duplicates; {} skipped, {failures} failed",
        totals.duplicates, totals.skipped
    );
    let _ = writeln!(
        text,
        "textsift: {:<16} {:>8} {:>8} {:>6} {:>9}",
        "phase", "wall s", "CPU s", "cores", "MB/s"
    );
    let total_cpu: Option<Duration> = phases.iter().map(|p| p.cpu).sum();
    let rows = phases
        .iter()
        .map(|p| (p.name, p.wall, p.cpu, p.reads_input))
        .chain([("total", total_wall, total_cpu, true)]);
    for (name, wall, cpu, reads_input) in rows {
        let seconds = wall.as_secs_f64();
        let (cpu, cores) = match cpu {
            Some(cpu) if seconds > 0.0 => {
                (format!("{:.3}", cpu.as_secs_f64()), format!("{:.2}", cpu.as_secs_f64() / seconds))
            }
            Some(cpu) => (format!("{:.3}", cpu.as_secs_f64()), "-".into()),
            None => ("-".into(), "-".into()),
        };
        let rate = if reads_input && seconds > 0.0 {
            format!("{:.1}", mb(totals.bytes_in) / seconds)
        } else {
            "-".into()
        };
        let _ = writeln!(text, "textsift: {name:<16} {seconds:>8.3} {cpu:>8} {cores:>6} {rate:>9}");
    }
    text
}

/// `bytes` in MB (10^6 bytes) from one MB on, in kB from one kB, else in bytes.
fn size(bytes: u64) -> String {
    match bytes {
        1_000_000.. => format!("{:.1} MB", bytes as f64 / 1e6),
        1_000.. => format!("{:.1} kB", bytes as f64 / 1e3),
        _ => format!("{bytes} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::label::{Label, Reason};
    use crate::report::BlockCounts;

    fn phase(name: &'static str, wall_ms: u64, cpu_ms: Option<u64>) -> Phase {
        let (wall, cpu) = (Duration::from_millis(wall_ms), cpu_ms.map(Duration::from_millis));
        Phase { name, wall, cpu, reads_input: name != "find inputs" }
    }

    #[test]
    fn renders_totals_and_a_row_a_phase_with_the_total() {
        let repeat = Label::Drop(Reason::Repeat { of: 0 });
        let chrome = Label::Drop(Reason::Chrome { rule: "share".into() });
        let mut labels = vec![Label::Keep; 6];
        labels.extend([repeat.clone(), chrome, repeat.clone(), repeat]);
        let totals = Totals {
            documents: 3,
            bytes_in: 2_000_000,
            bytes_out: 1_500_000,
            duplicates: 1,
            skipped: 2,
            counts: BlockCounts::from_labels(&labels),
        };
        let phases = [
            phase("find inputs", 0, Some(0)),
            phase("read and label", 500, Some(900)),
            phase("write", 500, Some(100)),
        ];
        let text = render(&totals, 4, 1, &phases, Some(36_800_000));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "textsift: 4 inputs, 3 documents, 2.0 MB read, 1.5 MB written, 1.000 s (2.0 MB/s), peak memory 36.8 MB"
        );
        assert_eq!(
            lines[1],
            "textsift: 10 blocks: 6 kept, 4 dropped (chrome 1, repeat 3); 1 near-duplicates; 2 skipped, 1 failed"
        );
        assert!(lines[2].starts_with("textsift: phase"), "{text}");
        let row = |line: &str| line.split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(row(lines[3]), "textsift: find inputs 0.000 0.000 - -");
        assert_eq!(row(lines[4]), "textsift: read and label 0.500 0.900 1.80 4.0");
        assert_eq!(row(lines[5]), "textsift: write 0.500 0.100 0.20 4.0");
        assert_eq!(row(lines[6]), "textsift: total 1.000 1.000 1.00 2.0");
        assert_eq!(lines.len(), 7);
    }

    #[test]
    fn sizes_below_a_megabyte_read_in_kilobytes_or_bytes() {
        assert_eq!(
            [size(0), size(999), size(1_000), size(27_218), size(999_999)],
            ["0 bytes", "999 bytes", "1.0 kB", "27.2 kB", "1000.0 kB"]
        );
        assert_eq!([size(1_000_000), size(68_300_000)], ["1.0 MB", "68.3 MB"]);
    }

    #[test]
    fn an_unknown_cpu_time_or_an_instant_phase_prints_a_dash() {
        let phases = [phase("read", 0, Some(0)), phase("write", 10, None)];
        let text = render(&Totals::default(), 0, 0, &phases, None);
        assert!(text.lines().next().is_some_and(|l| l.ends_with("(0.0 MB/s)")), "{text}");
        let rows: Vec<Vec<&str>> = text.lines().skip(3).map(|l| l.split_whitespace().collect()).collect();
        assert_eq!(rows[0], ["textsift:", "read", "0.000", "0.000", "-", "-"]);
        assert_eq!(rows[1], ["textsift:", "write", "0.010", "-", "-", "0.0"]);
        // One phase without CPU time leaves the total's unknown too.
        assert_eq!(rows[2], ["textsift:", "total", "0.010", "-", "-", "0.0"]);
        assert!(text.lines().nth(1).is_some_and(|l| l.contains("0 dropped;")), "{text}");
    }

    #[test]
    fn the_clock_ends_a_phase_a_lap_and_counts_cpu_spent() {
        let mut clock = PhaseClock::start();
        // Spin (not sleep) until the process has spent 10 ms of CPU (or 30 ms of wall clock
        // where CPU time is not told): on a loaded machine the wall clock alone says nothing
        // of the CPU spent.
        let (spin, cpu_before) = (Instant::now(), process_cpu_time());
        let spent = || match (process_cpu_time(), cpu_before) {
            (Some(now), Some(before)) => now.saturating_sub(before) >= Duration::from_millis(10),
            _ => spin.elapsed() >= Duration::from_millis(30),
        };
        let mut x = 0u64;
        while !spent() && spin.elapsed() < Duration::from_secs(10) {
            for _ in 0..1000 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(1));
            }
        }
        clock.lap("spin");
        clock.lap("nothing");
        let phases = clock.into_phases();
        assert_eq!(phases.iter().map(|p| p.name).collect::<Vec<_>>(), ["spin", "nothing"]);
        assert!(phases[1].wall < phases[0].wall, "{phases:?}");
        if cfg!(unix) {
            let cpu = phases[0].cpu.expect("unix tells CPU time");
            assert!(cpu >= Duration::from_millis(10), "{cpu:?}");
        }
    }

    #[test]
    fn the_peak_memory_holds_what_was_touched() {
        if !cfg!(unix) {
            assert_eq!(process_peak_memory(), None);
            return;
        }
        // 64 MB written, so resident: the peak is at least that.
        let touched = std::hint::black_box(vec![1u8; 64 << 20]);
        let peak = process_peak_memory().expect("unix tells the peak");
        assert!(peak >= touched.len() as u64, "{peak}");
        drop(touched);
        assert!(process_peak_memory().expect("unix tells the peak") >= peak, "a peak never falls");
    }
}
