//! The CPU time this process has used, all threads together: a measure of work that, unlike
//! wall time, neither the number of cores used nor (much) the other load on the machine changes.

use std::time::Duration;

/// CPU time used so far by this process, or `None` where it cannot be read.
pub fn process_time() -> Option<Duration> {
    imp::process_time()
}

/// CPU time used so far by this process's children that have ended (and theirs, in turn),
/// or `None` where it cannot be read.
pub fn children_time() -> Option<Duration> {
    children::time()
}

#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
mod children {
    use std::time::Duration;

    /// `struct timeval` on 64-bit Linux.
    #[repr(C)]
    #[derive(Default)]
    struct Timeval {
        seconds: i64,
        microseconds: i64,
    }

    /// `struct rusage` on 64-bit Linux: two times, then fourteen counters this does not read.
    #[repr(C)]
    #[derive(Default)]
    struct Rusage {
        user: Timeval,
        system: Timeval,
        counters: [i64; 14],
    }

    unsafe extern "C" {
        fn getrusage(who: i32, usage: *mut Rusage) -> i32;
    }

    const RUSAGE_CHILDREN: i32 = -1;

    pub fn time() -> Option<Duration> {
        let mut usage = Rusage::default();
        // SAFETY: `usage` is a valid, writable `struct rusage` for the duration of the call.
        let status = unsafe { getrusage(RUSAGE_CHILDREN, &mut usage) };
        let duration = |time: &Timeval| {
            Some(
                Duration::from_secs(u64::try_from(time.seconds).ok()?)
                    + Duration::from_micros(u64::try_from(time.microseconds).ok()?),
            )
        };
        (status == 0).then(|| Some(duration(&usage.user)? + duration(&usage.system)?)).flatten()
    }
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
mod children {
    pub fn time() -> Option<std::time::Duration> {
        None
    }
}

#[cfg(all(any(target_os = "linux", target_os = "macos"), target_pointer_width = "64"))]
mod imp {
    use std::time::Duration;

    /// `struct timespec` where `time_t` and `long` are 64 bits.
    #[repr(C)]
    struct Timespec {
        seconds: i64,
        nanoseconds: i64,
    }

    unsafe extern "C" {
        fn clock_gettime(clock: i32, time: *mut Timespec) -> i32;
    }

    #[cfg(target_os = "linux")]
    const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
    #[cfg(target_os = "macos")]
    const CLOCK_PROCESS_CPUTIME_ID: i32 = 12;

    pub fn process_time() -> Option<Duration> {
        let mut time = Timespec { seconds: 0, nanoseconds: 0 };
        // SAFETY: `time` is a valid, writable `timespec` for the duration of the call, and the
        // clock id is the C library's own for this platform.
        let status = unsafe { clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &mut time) };
        let seconds = u64::try_from(time.seconds).ok()?;
        let nanoseconds = u32::try_from(time.nanoseconds).ok()?;
        (status == 0).then(|| Duration::new(seconds, nanoseconds))
    }
}

#[cfg(not(all(any(target_os = "linux", target_os = "macos"), target_pointer_width = "64")))]
mod imp {
    pub fn process_time() -> Option<std::time::Duration> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::process_time;

    #[test]
    #[cfg(all(any(target_os = "linux", target_os = "macos"), target_pointer_width = "64"))]
    fn work_uses_cpu_time() {
        let before = process_time().expect("readable on this platform");
        // Work the optimizer cannot skip, until the clock has moved.
        let mut value = 1u64;
        while process_time().unwrap() == before {
            value = std::hint::black_box(value.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
        assert!(process_time().unwrap() > before);
    }

    #[test]
    #[cfg(all(target_os = "linux", target_pointer_width = "64"))]
    fn an_ended_child_adds_its_cpu_time() {
        let before = super::children_time().expect("readable on this platform");
        // A child that computes until its own CPU clock has moved.
        let status = std::process::Command::new("sh")
            .args(["-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"])
            .status()
            .unwrap();
        assert!(status.success());
        assert!(super::children_time().unwrap() > before);
    }
}
