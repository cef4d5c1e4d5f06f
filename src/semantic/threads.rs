//! How candle uses the CPUs: set once, at the start of `main`, because candle reads it from
//! the environment.

/// Fixes how candle uses the CPUs, once. Call it first thing in `main`, before any thread
/// starts; settings the operator made in the environment are kept.
///
/// - `RAYON_NUM_THREADS`, the matrix products' threads: the CPUs this process may use, at most
///   the physical cores. Left unset, candle 0.11 works the count out again before every matrix
///   product, and on x86 that means parsing `/proc/cpuinfo` each time: about a fifth of the time
///   of embedding one short question.
/// - `CANDLE_NUM_THREADS=1`: candle's element-wise steps (additions, layer norms) run on the
///   calling thread. They are a small share of the work, and candle's separate pool for them
///   spins beside the matrix threads, which on a small machine slows both (p99 per question
///   16-18 ms instead of 18-20 ms on 2 cores, measured before `super::bert`).
pub fn fix_thread_count() {
    let usable = std::thread::available_parallelism().map(usize::from).unwrap_or(1);
    for (name, value) in thread_settings(usable, num_cpus::get_physical(), |name| std::env::var_os(name).is_some()) {
        // SAFETY: called at the start of `main`, before any other thread exists to read the
        // environment concurrently.
        unsafe { std::env::set_var(name, value.to_string()) };
    }
}

/// The variables [`fix_thread_count`] sets: those not `already_set`, for `usable` CPUs of
/// which `physical` are whole cores.
fn thread_settings(usable: usize, physical: usize, already_set: impl Fn(&str) -> bool) -> Vec<(&'static str, usize)> {
    let matrix_threads = usable.min(physical).max(1);
    [("RAYON_NUM_THREADS", matrix_threads), ("CANDLE_NUM_THREADS", 1)].into_iter().filter(|(name, _)| !already_set(name)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_threads_are_the_usable_cpus_but_no_more_than_the_physical_cores() {
        let none_set = |_: &str| false;
        assert_eq!(thread_settings(2, 2, none_set), vec![("RAYON_NUM_THREADS", 2), ("CANDLE_NUM_THREADS", 1)]);
        // Hyper-threads share a core's vector units; a CPU quota below the core count wins.
        assert_eq!(thread_settings(16, 8, none_set)[0], ("RAYON_NUM_THREADS", 8));
        assert_eq!(thread_settings(2, 32, none_set)[0], ("RAYON_NUM_THREADS", 2));
        assert_eq!(thread_settings(0, 0, none_set)[0], ("RAYON_NUM_THREADS", 1));
    }

    #[test]
    fn an_operators_own_setting_is_kept() {
        let rayon_set = |name: &str| name == "RAYON_NUM_THREADS";
        assert_eq!(thread_settings(4, 4, rayon_set), vec![("CANDLE_NUM_THREADS", 1)]);
        assert!(thread_settings(4, 4, |_| true).is_empty());
    }
}
