//! Prints the time to render a 1,000-card packing slip: `cargo run --release -p cardbench-documents --example bench_slip`.

fn main() {
    for _ in 0..3 {
        match cardbench_documents::bench_packing_slip_1000() {
            Ok(elapsed) => println!("1,000-card packing slip: {:.1} ms (goal ≤ 250 ms)", elapsed.as_secs_f64() * 1000.0),
            Err(e) => {
                eprintln!("bench failed: {e}");
                std::process::exit(1);
            }
        }
    }
}
