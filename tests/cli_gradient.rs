//! End-to-end tests of `pdeinv misfit` and `pdeinv gradient`: output format,
//! the gradient file (layout v1), the `--check` tables, and bad input.

mod common;

use common::*;
use std::path::Path;
use tempfile::TempDir;

/// Data from the tiny scenario's true model and its starting model.
fn data_and_start(dir: &TempDir, scenario_text: &str) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let scenario = write(dir, "s.toml", scenario_text);
    let data = dir.path().join("d.h5");
    let start = dir.path().join("m0.h5");
    expect_success(&["forward", s(&scenario), "--out", s(&data), "--quiet"]);
    expect_success(&["model", "build", s(&scenario), "--which", "initial", "-o", s(&start), "--quiet"]);
    (scenario, data, start)
}

/// `gradient SCENARIO --model MODEL --data DATA --out OUT`.
fn gradient_args<'a>(scenario: &'a Path, model: &'a Path, data: &'a Path, out: &'a Path) -> Vec<&'a str> {
    vec!["gradient", s(scenario), "--model", s(model), "--data", s(data), "--out", s(out)]
}

/// The value of the last line `misfit = <value>`.
fn misfit_line(stdout: &str) -> f64 {
    let last = stdout.lines().last().expect("some output");
    let value = last.strip_prefix("misfit = ").unwrap_or_else(|| panic!("last line is not `misfit = ...`: {last}"));
    // 17 significant digits: d.dddddddddddddddde±x
    let mantissa = value.split('e').next().unwrap();
    assert_eq!(mantissa.trim_start_matches('-').chars().filter(char::is_ascii_digit).count(), 17, "{value}");
    value.parse().unwrap()
}

#[test]
fn misfit_and_gradient_agree_and_write_layout_v1() {
    let dir = tempfile::tempdir().unwrap();
    let (scenario, data, start) = data_and_start(
        &dir,
        &SCENARIO.replace("[solver]", "[checkpointing]\nstrategy = { binomial = { snapshots = 4 } }\n\n[solver]"),
    );
    let misfit = misfit_line(&expect_success(&["misfit", s(&scenario), "--model", s(&start), "--data", s(&data)]));
    assert!(misfit > 0.0);
    let gradient = dir.path().join("g.h5");
    let stdout = expect_success(&gradient_args(&scenario, &start, &data, &gradient));
    assert_eq!(misfit_line(&stdout).to_bits(), misfit.to_bits(), "misfit and gradient report the same misfit");
    assert!(stdout.contains("binomial:4"), "{stdout}");
    let file = hdf5::File::open(&gradient).unwrap();
    assert_eq!(file.attr("pdeinv_format").unwrap().read_scalar::<i64>().unwrap(), 1);
    let g = file.dataset("gradient").unwrap();
    assert_eq!(g.shape(), vec![30, 40]);
    assert_eq!(g.attr("misfit").unwrap().read_scalar::<f64>().unwrap().to_bits(), misfit.to_bits());
    let values = g.read_raw::<f64>().unwrap();
    assert!(values.iter().all(|v| v.is_finite()) && values.iter().any(|&v| v != 0.0));
    // the true model fits its own data exactly
    let truth = dir.path().join("true.h5");
    expect_success(&["model", "build", s(&scenario), "--which", "true", "-o", s(&truth), "--quiet"]);
    assert_eq!(misfit_line(&expect_success(&["misfit", s(&scenario), "--model", s(&truth), "--data", s(&data)])), 0.0);
}

#[test]
fn gradient_check_prints_passing_tables() {
    let dir = tempfile::tempdir().unwrap();
    // long enough for the waves to work the CPML: a layer tuned to each
    // model's own largest velocity failed this Taylor test (slopes up to 2.7)
    let (scenario, data, start) = data_and_start(
        &dir,
        &SCENARIO.replace("nt = 50", "nt = 400").replace("space_order = 4", "space_order = 4\nprecision = \"f64\""),
    );
    let gradient = dir.path().join("g.h5");
    let stdout = expect_success(&[gradient_args(&scenario, &start, &data, &gradient), vec!["--check"]].concat());
    assert!(stdout.contains("dot-product test") && stdout.contains("Taylor test"), "{stdout}");
    assert_eq!(stdout.matches("PASS").count(), 2, "{stdout}");
    assert!(!stdout.contains("FAIL"), "{stdout}");
}

#[test]
fn gradient_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let (scenario, data, start) = data_and_start(&dir, SCENARIO);
    let out = dir.path().join("g.h5");
    // a model of another shape
    let other = scenario_with(&dir, "other.toml", "shape = [30, 40]", "shape = [31, 40]");
    let other_model = dir.path().join("other.h5");
    expect_success(&["model", "build", s(&other), "-o", s(&other_model), "--quiet"]);
    expect_user_error(&gradient_args(&scenario, &other_model, &data, &out), "shape");
    // data recorded for another acquisition
    let fewer = scenario_with(&dir, "fewer.toml", "count = 14", "count = 9");
    expect_user_error(&["misfit", s(&fewer), "--model", s(&start), "--data", s(&data)], "receivers");
    // a data file that is a model file
    expect_user_error(&["misfit", s(&scenario), "--model", s(&start), "--data", s(&start)], "`data` file");
    // an unknown checkpointing strategy
    let strategy = write(
        &dir,
        "strategy.toml",
        &SCENARIO.replace("[solver]", "[checkpointing]\nstrategy = \"everything\"\n\n[solver]"),
    );
    expect_user_error(&gradient_args(&strategy, &start, &data, &out), "checkpointing.strategy");
    let zero = write(
        &dir,
        "zero.toml",
        &SCENARIO.replace("[solver]", "[checkpointing]\nstrategy = { binomial = { snapshots = 0 } }\n\n[solver]"),
    );
    expect_user_error(&gradient_args(&zero, &start, &data, &out), "snapshots");
    assert!(!out.exists());
}

#[test]
fn checkpoint_bench_table_csv_and_plot() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(&dir, "s.toml", SCENARIO);
    let (csv, png) = (dir.path().join("t.csv"), dir.path().join("m.png"));
    let stdout = expect_success(&[
        "checkpoint-bench",
        s(&scenario),
        "--strategies",
        "store-all,periodic:7,binomial:3",
        "--csv",
        s(&csv),
        "--plot",
        s(&png),
    ]);
    assert!(stdout.contains("binomial:3"), "{stdout}");
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "strategy,snapshots,peak_bytes,recomputed_steps,seconds,max_rel_grad_diff");
    assert_eq!(lines.len(), 4);
    let fields: Vec<Vec<&str>> = lines[1..].iter().map(|l| l.split(',').collect()).collect();
    // every strategy gives the store-all gradient bitwise; memory falls, recomputation rises
    assert!(fields.iter().all(|f| f[5].parse::<f64>().unwrap() == 0.0), "{text}");
    let bytes: Vec<u64> = fields.iter().map(|f| f[2].parse().unwrap()).collect();
    let recomputed: Vec<u64> = fields.iter().map(|f| f[3].parse().unwrap()).collect();
    assert!(bytes[0] > bytes[1] && bytes[1] > bytes[2], "{text}");
    assert!(recomputed[0] == 0 && recomputed[2] > recomputed[1], "{text}");
    assert_png(&png);
    expect_user_error(&["checkpoint-bench", s(&scenario), "--strategies", "binomial:x"], "binomial:x");
    expect_user_error(&["checkpoint-bench", s(&scenario), "--strategies", "revolve:3"], "revolve:3");
    // boundary saving rebuilds the forward field backwards: f32 rounding only
    let stdout = expect_success(&["checkpoint-bench", s(&scenario), "--strategies", "store-all,boundary-saving"]);
    let row = stdout.lines().find(|l| l.starts_with("boundary-saving")).expect("a boundary-saving row");
    let difference: f64 = row.split_whitespace().last().unwrap().parse().unwrap();
    assert!(difference <= 1e-5, "boundary-saving differs from store-all by {difference}");
}

#[test]
fn gradient_is_bitwise_the_same_for_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let (scenario, data, start) = data_and_start(&dir, SCENARIO);
    let read = |threads: &str| {
        let out = dir.path().join(format!("g{threads}.h5"));
        expect_success(&[vec!["--threads", threads], gradient_args(&scenario, &start, &data, &out)].concat());
        hdf5::File::open(&out).unwrap().dataset("gradient").unwrap().read_raw::<f64>().unwrap()
    };
    let (one, two, three) = (read("1"), read("2"), read("3"));
    assert!(one.iter().any(|&v| v != 0.0));
    for other in [&two, &three] {
        assert!(one.iter().zip(other).all(|(a, b)| a.to_bits() == b.to_bits()));
    }
}

#[test]
fn a_memory_budget_picks_a_strategy_that_fits() {
    let dir = tempfile::tempdir().unwrap();
    let with_budget = |budget: &str| {
        SCENARIO.replace("[solver]", &format!("[checkpointing]\nstrategy = {{ memory = \"{budget}\" }}\n\n[solver]"))
    };
    let (scenario, data, start) = data_and_start(&dir, &with_budget("1GiB"));
    let out = dir.path().join("g.h5");
    let read = |path: &Path| hdf5::File::open(path).unwrap().dataset("gradient").unwrap().read_raw::<f64>().unwrap();
    let bits = |values: Vec<f64>| values.into_iter().map(f64::to_bits).collect::<Vec<_>>();
    // plenty of memory: the plan names a strategy within the budget (the
    // fastest under the cost model: not necessarily store-all, memory is
    // not free), and its gradient is store-all's bitwise
    let stdout = expect_success(&gradient_args(&scenario, &start, &data, &out));
    let plan = stdout.lines().find(|l| l.starts_with("checkpointing plan")).unwrap_or_else(|| panic!("{stdout}"));
    assert!(plan.contains("recomputed steps at most") && plan.contains(" s of forward steps"), "{plan}");
    let store_all =
        write(&dir, "store-all.toml", &with_budget("1GiB").replace("{ memory = \"1GiB\" }", "\"store-all\""));
    let reference = dir.path().join("store-all.h5");
    assert!(expect_success(&gradient_args(&store_all, &start, &data, &reference)).contains("store-all"));
    assert_eq!(bits(read(&out)), bits(read(&reference)), "{plan}");
    // room for a few states only: a binomial schedule within the budget
    let tight = write(&dir, "tight.toml", &with_budget("200KB"));
    let stdout = expect_success(&gradient_args(&tight, &start, &data, &out));
    let plan = stdout.lines().find(|l| l.starts_with("checkpointing plan")).unwrap_or_else(|| panic!("{stdout}"));
    assert!(plan.contains("binomial:"), "{plan}");
    let bytes: usize = plan.split("(").nth(1).and_then(|t| t.split(' ').next()).and_then(|t| t.parse().ok()).unwrap();
    assert!(bytes <= 200_000, "{plan}");
    // too little for one state, and a size that is not one
    let none = write(&dir, "none.toml", &with_budget("1KB"));
    expect_user_error(&gradient_args(&none, &start, &data, &out), "holds no checkpoint");
    let bad = write(&dir, "bad.toml", &with_budget("lots"));
    expect_user_error(&gradient_args(&bad, &start, &data, &out), "is not a size");
}

#[test]
fn bench_adjoint_reports_the_step_ratio() {
    let stdout = expect_success(&["bench", "adjoint", "--shape", "48,40", "--nt", "20", "--order", "4"]);
    let ratio: f64 =
        stdout.lines().find_map(|line| line.strip_prefix("adjoint/forward = ")).expect("a ratio line").parse().unwrap();
    assert!(ratio.is_finite() && ratio > 0.0, "{stdout}");
    assert!(stdout.contains("adjoint ms/step"), "{stdout}");
    expect_user_error(&["bench", "adjoint", "--shape", "48,40", "--nt", "1"], "--nt");
}
