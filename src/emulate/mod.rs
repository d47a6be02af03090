//! The emulator: the executable specification of the generated design. `float` gives the source
//! model's meaning in f64; `fixed` gives the bits the C++ computes.

pub mod fixed;
/// The f64 meaning lives with the IR (`ir::eval`): passes evaluate the model too.
pub use crate::ir::eval as float;

pub use fixed::Emulator;

/// `f(0) .. f(n - 1)` split over the machine's cores, in order; the first error by index wins,
/// so the answer does not depend on the number of cores.
pub fn par_map<T: Send>(
    n: usize,
    f: impl Fn(usize) -> crate::error::Result<T> + Sync,
) -> crate::error::Result<Vec<T>> {
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
    let chunk = n.div_ceil(threads).max(1);
    let parts: Vec<crate::error::Result<Vec<T>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .step_by(chunk)
            .map(|start| {
                let f = &f;
                s.spawn(move || (start..(start + chunk).min(n)).map(f).collect())
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("emulator thread"))
            .collect()
    });
    let mut out = Vec::with_capacity(n);
    for p in parts {
        out.extend(p?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::par_map;
    use crate::error::Error;

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
}
