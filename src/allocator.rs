//! How the `textsift` process asks its allocator to hand large buffers back to the system.
//!
//! glibc keeps a freed buffer's memory for the next allocation rather than return it, and each
//! time a buffer it mapped apart is freed it raises the size from which it maps buffers apart
//! (up to 32 MiB). A run's large tables (JSONL batches, grouping's tables, the write pass's
//! chunks) then stay in the heap once freed, and the next pass's tables come on top of them:
//! 1,000,000 JSONL records without the cache peaked at 147-184 MB from run to run. With the
//! threshold fixed at [`MAP_APART_BYTES`], every buffer that large is mapped apart and its
//! memory goes back to the system when it is freed: 132-134 MB.
//!
//! Fixing it also fixes the size of free memory at the top of the heap from which glibc gives
//! memory back ([`KEEP_FREE_BYTES`]; glibc otherwise raises it with the mmap threshold). Left
//! at glibc's 128 KiB, or at 1 MiB, the heap shrank and grew again all the time: 12-25% more
//! CPU for 300,000 records with a report (at 128 KiB), 12% for 1,000,000 records (at 1 MiB, two
//! runs).
//! Per-page buffers stay below both and come from the heap as before.

/// Size from which glibc maps a buffer apart, and so returns its memory when it is freed.
pub const MAP_APART_BYTES: usize = 4 << 20;

/// Free memory at the top of a heap that glibc keeps before it gives any back.
pub const KEEP_FREE_BYTES: usize = 32 << 20;

/// glibc's tunables for the two settings.
const TUNABLES: [&str; 2] = ["glibc.malloc.mmap_threshold", "glibc.malloc.trim_threshold"];

/// Sets glibc's mmap threshold to [`MAP_APART_BYTES`] and its trim threshold to
/// [`KEEP_FREE_BYTES`], each unless `GLIBC_TUNABLES` sets it (the user's setting wins); returns
/// how many it set. Does nothing elsewhere (musl, macOS, Windows). Call it once, before any
/// thread starts.
pub fn return_large_buffers() -> usize {
    let tunables = std::env::var("GLIBC_TUNABLES").ok();
    let mut set = 0;
    for (tunable, bytes) in TUNABLES.into_iter().zip([MAP_APART_BYTES, KEEP_FREE_BYTES]) {
        if !user_sets(tunables.as_deref(), tunable) && set_threshold(tunable, bytes) {
            set += 1;
        }
    }
    set
}

/// Whether a `GLIBC_TUNABLES` value (`name=value` pairs, `:` apart) sets `tunable`.
fn user_sets(tunables: Option<&str>, tunable: &str) -> bool {
    tunables.is_some_and(|t| t.split(':').any(|pair| pair.trim().split('=').next() == Some(tunable)))
}

/// Sets the glibc threshold behind `tunable` to `bytes`; true when glibc took it.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn set_threshold(tunable: &str, bytes: usize) -> bool {
    let option = if tunable == TUNABLES[0] { libc::M_MMAP_THRESHOLD } else { libc::M_TRIM_THRESHOLD };
    let Ok(bytes) = libc::c_int::try_from(bytes) else { return false };
    // SAFETY: `mallopt` only changes an allocation threshold of glibc's malloc; it is called
    // before the run's threads start, and any value is safe (glibc refuses one it cannot use
    // and returns 0).
    #[allow(unsafe_code)]
    let done = unsafe { libc::mallopt(option, bytes) };
    done == 1
}

/// Sets nothing: the allocator is not glibc's.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn set_threshold(_: &str, _: usize) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_threshold_in_glibc_tunables_is_the_users_choice() {
        let mmap = "glibc.malloc.mmap_threshold";
        assert!(!user_sets(None, mmap));
        assert!(!user_sets(Some(""), mmap));
        assert!(!user_sets(Some("glibc.malloc.arena_max=1"), mmap));
        assert!(!user_sets(Some("glibc.malloc.trim_threshold=1"), mmap));
        assert!(!user_sets(Some("glibc.malloc.mmap_threshold_max=1"), mmap));
        assert!(user_sets(Some("glibc.malloc.mmap_threshold=131072"), mmap));
        assert!(user_sets(Some("glibc.malloc.arena_max=1:glibc.malloc.mmap_threshold=131072"), mmap));
        assert!(user_sets(Some("glibc.malloc.trim_threshold=1"), "glibc.malloc.trim_threshold"));
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn glibc_takes_both_thresholds() {
        assert!(TUNABLES.iter().zip([MAP_APART_BYTES, KEEP_FREE_BYTES]).all(|(t, b)| set_threshold(t, b)));
    }
}
