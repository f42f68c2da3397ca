//! PNG figures: model images (or a line plot for 1D models), shot gathers,
//! misfit curves and several models side by side sharing one colour scale.
//!
//! Figures are rendered with `plotters` into an in-memory RGB buffer, using
//! the bundled DejaVu Sans font (no system fonts are needed), encoded as PNG
//! and written atomically. Images are about 900 px wide. Fields are drawn
//! pixel by pixel: each output pixel takes the colour of the nearest grid
//! point, so large models render quickly. Non-finite samples are drawn grey.
//!
//! Model coordinates: grid point `(iz, ix)` lies at `z = iz * dz`,
//! `x = ix * dx` metres (origin 0), depth increasing downward.

use crate::atomic::write_bytes_atomically;
use crate::error::IoError;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::ops::Range;
use std::path::Path;

/// Colour scale of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Palette {
    /// Perceptually uniform dark-blue → green → yellow, for models.
    #[default]
    Viridis,
    /// Symmetric blue → white → red, for signed data such as gradients and
    /// gathers (white at the middle of the range).
    Seismic,
}

/// A model (or any field on a grid) to draw.
#[derive(Debug, Clone, Copy)]
pub struct ImageSpec<'a> {
    /// Values, row-major `[nz, nx]` (x fastest).
    pub values: &'a [f64],
    /// Points along depth (1 for a 1D model, drawn as a line plot).
    pub nz: usize,
    /// Points along x.
    pub nx: usize,
    /// Depth spacing, metres (unused when `nz == 1`).
    pub dz: f64,
    /// Horizontal spacing, metres.
    pub dx: f64,
    /// Figure (or panel) title.
    pub title: &'a str,
    /// Quantity and unit of the values, e.g. `"vp (m/s)"`: the colour-bar
    /// label (the y-axis label of a 1D plot).
    pub colour_label: &'a str,
    /// Colour scale `(min, max)`; `None` uses the data's finite min and max.
    pub range: Option<(f64, f64)>,
    /// Colour scale.
    pub palette: Palette,
}

/// A shot gather to draw as an image.
#[derive(Debug, Clone, Copy)]
pub struct GatherSpec<'a> {
    /// Samples, row-major `[nt, nrec]` (receivers fastest).
    pub traces: &'a [f64],
    /// Time samples.
    pub nt: usize,
    /// Receivers.
    pub nrec: usize,
    /// Time step, seconds.
    pub dt: f64,
    /// Receiver x positions, metres (length `nrec`).
    pub receiver_x: &'a [f64],
    /// Figure title.
    pub title: &'a str,
    /// Colour clip: the scale is `±` this percentile (in (0, 1], e.g. 0.99)
    /// of `|values|`.
    pub clip_percentile: f64,
}

/// Line plots sharing axes, e.g. misfit against iteration.
#[derive(Debug, Clone, Copy)]
pub struct CurveSpec<'a> {
    /// `(legend label, x, y)` for each curve; x and y have equal lengths.
    pub series: &'a [(&'a str, &'a [f64], &'a [f64])],
    /// Figure title.
    pub title: &'a str,
    /// Horizontal axis label.
    pub x_label: &'a str,
    /// Vertical axis label.
    pub y_label: &'a str,
    /// Logarithmic y axis (non-positive values are left out).
    pub log_y: bool,
}

/// Width of every figure, pixels.
const WIDTH: u32 = 900;
/// Height limits of model figures, pixels.
const MIN_HEIGHT: u32 = 300;
const MAX_HEIGHT: u32 = 1200;
/// Height of gather and curve figures, pixels.
const GATHER_HEIGHT: u32 = 700;
const CURVE_HEIGHT: u32 = 550;
/// Width reserved for the colour bar and its labels.
const COLOUR_BAR_WIDTH: u32 = 130;
/// Layout of one chart: outer margin, caption, x and y label areas.
const MARGIN: u32 = 12;
const CAPTION_SIZE: u32 = 22;
const X_LABEL_AREA: u32 = 50;
const Y_LABEL_AREA: u32 = 80;
/// Pixels a chart needs around its plotting area (vertically, horizontally).
const CHART_EXTRA_HEIGHT: u32 = 2 * MARGIN + CAPTION_SIZE + 16 + X_LABEL_AREA;
const CHART_EXTRA_WIDTH: u32 = 2 * MARGIN + Y_LABEL_AREA;
const FONT: &str = "sans-serif";
const LABEL_SIZE: u32 = 15;
const AXIS_TITLE_SIZE: u32 = 17;
/// Colour of non-finite samples.
const MISSING: RGBColor = RGBColor(150, 150, 150);

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;
type PlotArea<'a> = DrawingArea<BitMapBackend<'a>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;
type DrawError = Box<dyn std::error::Error>;

fn figure_error(path: &Path, message: impl Into<String>) -> IoError {
    IoError::Figure { path: path.to_path_buf(), message: message.into() }
}

/// Draw a model: an image with axes `x (m)` and `z (m)` (depth downward) and
/// a colour bar, or for `nz == 1` a line plot of value against `x (m)`.
pub fn plot_model(path: &Path, spec: &ImageSpec) -> Result<(), IoError> {
    check_image(path, spec, "model")?;
    let range = colour_range(path, std::slice::from_ref(spec))?;
    if spec.nz == 1 {
        return render_png(path, (WIDTH, 500), |root| draw_line_model(root, spec, range));
    }
    let (x_extent, z_extent) = (axis_range(spec.nx, spec.dx), axis_range(spec.nz, spec.dz));
    let plot_width = WIDTH - COLOUR_BAR_WIDTH - CHART_EXTRA_WIDTH;
    let aspect = span(&z_extent) / span(&x_extent);
    let height = scaled_height(f64::from(plot_width) * aspect + f64::from(CHART_EXTRA_HEIGHT));
    render_png(path, (WIDTH, height), |root| {
        let (main, bar) = root.split_horizontally(WIDTH - COLOUR_BAR_WIDTH);
        draw_image_panel(&main, spec, range, spec.palette)?;
        draw_colour_bar(&bar, range, spec.palette, spec.colour_label)
    })
}

/// Draw several models in one PNG sharing one colour scale (the first
/// panel's `range` if given, else the min and max over all panels) and one
/// colour bar, labelled with the first panel's `colour_label` and drawn with
/// its palette. Panels are laid out in the grid that shows them largest.
pub fn plot_models_side_by_side(path: &Path, panels: &[ImageSpec]) -> Result<(), IoError> {
    let Some(first) = panels.first() else {
        return Err(figure_error(path, "no model panels to draw; give at least one"));
    };
    for (i, panel) in panels.iter().enumerate() {
        check_image(path, panel, &format!("panel {} ({:?})", i + 1, panel.title))?;
    }
    let range = colour_range(path, panels)?;
    let aspect = panels
        .iter()
        .map(|p| if p.nz == 1 { 0.5 } else { span(&axis_range(p.nz, p.dz)) / span(&axis_range(p.nx, p.dx)) })
        .fold(0.0, f64::max);
    let (rows, columns, height) = grid_layout(panels.len(), aspect);
    let has_image = panels.iter().any(|p| p.nz > 1);
    render_png(path, (WIDTH, height), |root| {
        let (main, bar) = if has_image {
            let (main, bar) = root.split_horizontally(WIDTH - COLOUR_BAR_WIDTH);
            (main, Some(bar))
        } else {
            (root.clone(), None)
        };
        for (area, panel) in main.split_evenly((rows, columns)).iter().zip(panels) {
            if panel.nz == 1 {
                draw_line_model(area, panel, range)?;
            } else {
                draw_image_panel(area, panel, range, first.palette)?;
            }
        }
        match bar {
            Some(bar) => draw_colour_bar(&bar, range, first.palette, first.colour_label),
            None => Ok(()),
        }
    })
}

/// Draw a shot gather: receiver position (m) across, time (s) increasing
/// downward, Seismic palette clipped symmetrically at the given percentile
/// of `|values|`, with a colour bar.
pub fn plot_gather(path: &Path, spec: &GatherSpec) -> Result<(), IoError> {
    let (nt, nrec) = (spec.nt, spec.nrec);
    if nt == 0 || nrec == 0 {
        return Err(figure_error(
            path,
            format!("gather is empty ({nt} time samples x {nrec} receivers); it needs at least one of each"),
        ));
    }
    if nt.checked_mul(nrec) != Some(spec.traces.len()) {
        return Err(figure_error(
            path,
            format!(
                "gather has {} samples but nt * nrec = {nt} * {nrec}; traces must be row-major [nt, nrec]",
                spec.traces.len()
            ),
        ));
    }
    if spec.receiver_x.len() != nrec {
        return Err(figure_error(
            path,
            format!(
                "gather has {} receiver positions for {nrec} receivers; give one x per receiver",
                spec.receiver_x.len()
            ),
        ));
    }
    if let Some(x) = spec.receiver_x.iter().find(|x| !x.is_finite()) {
        return Err(figure_error(
            path,
            format!("receiver position {x} is not finite; positions must be finite metres"),
        ));
    }
    check_spacing(path, "time step dt", spec.dt)?;
    if !(spec.clip_percentile > 0.0 && spec.clip_percentile <= 1.0) {
        return Err(figure_error(
            path,
            format!("clip percentile {} must be in (0, 1], e.g. 0.99", spec.clip_percentile),
        ));
    }
    let clip = clip_level(spec.traces, spec.clip_percentile)
        .ok_or_else(|| figure_error(path, "gather has no finite values to draw"))?;
    let range = (-clip, clip);

    // Receivers sorted by position, for nearest-receiver lookup per pixel column.
    let mut by_position: Vec<(f64, usize)> = spec.receiver_x.iter().copied().zip(0..).collect();
    by_position.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (x_min, x_max) = (by_position[0].0, by_position[nrec - 1].0);
    let x_range = if x_max > x_min {
        let pad = 0.5 * (x_max - x_min) / (nrec - 1) as f64;
        (x_min - pad)..(x_max + pad)
    } else {
        (x_min - 1.0)..(x_min + 1.0)
    };
    check_extent(path, "receiver positions", &x_range)?;
    let t_range = axis_range(nt, spec.dt);
    check_extent(path, "time axis", &t_range)?;

    render_png(path, (WIDTH, GATHER_HEIGHT), |root| {
        let (main, bar) = root.split_horizontally(WIDTH - COLOUR_BAR_WIDTH);
        let mut chart =
            chart_builder(&main, spec.title).build_cartesian_2d(x_range.clone(), t_range.end..t_range.start)?;
        let nearest_receiver = |x: f64| {
            let i = by_position.partition_point(|p| p.0 < x);
            let below = by_position[i.saturating_sub(1)];
            let above = by_position[i.min(nrec - 1)];
            if (x - below.0).abs() <= (above.0 - x).abs() { below.1 } else { above.1 }
        };
        paint(chart.plotting_area(), &x_range, &(t_range.end..t_range.start), |x, t| {
            let it = nearest_index(t, spec.dt, nt);
            colour(Palette::Seismic, spec.traces[it * nrec + nearest_receiver(x)], range)
        })?;
        let (x_format, t_format) = (tick_formatter(&x_range), tick_formatter(&t_range));
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("receiver x (m)")
            .y_desc("time (s)")
            .x_label_formatter(&x_format)
            .y_label_formatter(&t_format)
            .label_style((FONT, LABEL_SIZE))
            .axis_desc_style((FONT, AXIS_TITLE_SIZE))
            .draw()?;
        frame(chart.plotting_area(), &x_range, &t_range)?;
        draw_colour_bar(&bar, range, Palette::Seismic, "amplitude")
    })
}

/// Draw line plots with a legend, on a linear or logarithmic y axis.
pub fn plot_curves(path: &Path, spec: &CurveSpec) -> Result<(), IoError> {
    if spec.series.is_empty() {
        return Err(figure_error(path, "no curves to draw; give at least one (label, x, y) series"));
    }
    let mut x_bounds = Bounds::default();
    let mut y_bounds = Bounds::default();
    for (label, x, y) in spec.series {
        if x.len() != y.len() {
            return Err(figure_error(
                path,
                format!("curve {label:?} has {} x values but {} y values; they must be equal", x.len(), y.len()),
            ));
        }
        for (&xi, &yi) in x.iter().zip(y.iter()) {
            if usable_point(xi, yi, spec.log_y) {
                x_bounds.add(xi);
                y_bounds.add(yi);
            }
        }
    }
    let (Some(x_range), Some(y_range)) = (x_bounds.range(), y_bounds.range()) else {
        let what = if spec.log_y { "finite points with positive y (log axis)" } else { "finite points" };
        return Err(figure_error(path, format!("the curves have no {what} to draw")));
    };
    let x_range = widen(x_range.0, x_range.1);
    let x_range = x_range.0..x_range.1;
    check_extent(path, "x values", &x_range)?;
    let y_range = if spec.log_y {
        let (lo, hi) = y_range;
        let (lo, hi) = if hi > lo { (lo, hi) } else { (lo / 2.0, hi * 2.0) };
        (lo / 10f64.powf(0.05 * (hi / lo).log10().max(0.1)))..(hi * 10f64.powf(0.05 * (hi / lo).log10().max(0.1)))
    } else {
        let (lo, hi) = widen(y_range.0, y_range.1);
        let pad = 0.05 * (hi - lo);
        (lo - pad)..(hi + pad)
    };
    check_extent(path, "y values", &y_range)?;

    render_png(path, (WIDTH, CURVE_HEIGHT), |root| {
        let mut builder = chart_builder(root, spec.title);
        if spec.log_y {
            let mut chart = builder.build_cartesian_2d(x_range.clone(), y_range.clone().log_scale())?;
            draw_curves(&mut chart, spec, &x_range, &y_range)
        } else {
            let mut chart = builder.build_cartesian_2d(x_range.clone(), y_range.clone())?;
            draw_curves(&mut chart, spec, &x_range, &y_range)
        }
    })
}

/// Mesh, curves and legend of [`plot_curves`] for either y-axis kind.
fn draw_curves<'a, Y>(
    chart: &mut ChartContext<'a, BitMapBackend<'a>, Cartesian2d<RangedCoordf64, Y>>,
    spec: &CurveSpec,
    x_range: &Range<f64>,
    y_range: &Range<f64>,
) -> Result<(), DrawError>
where
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let x_format = tick_formatter(x_range);
    let y_linear = tick_formatter(y_range);
    let y_format = |v: &f64| if spec.log_y { format_log_tick(*v) } else { y_linear(v) };
    chart
        .configure_mesh()
        .x_desc(spec.x_label)
        .y_desc(spec.y_label)
        .x_label_formatter(&x_format)
        .y_label_formatter(&y_format)
        .label_style((FONT, LABEL_SIZE))
        .axis_desc_style((FONT, AXIS_TITLE_SIZE))
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(210, 210, 210))
        .draw()?;
    for (i, (label, x, y)) in spec.series.iter().enumerate() {
        let style = CURVE_COLOURS[i % CURVE_COLOURS.len()].stroke_width(2);
        let mut labelled = false;
        for run in finite_runs(x, y, spec.log_y) {
            let series = chart.draw_series(LineSeries::new(run, style))?;
            if !labelled {
                series.label(*label).legend(move |(px, py)| PathElement::new(vec![(px, py), (px + 24, py)], style));
                labelled = true;
            }
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, LABEL_SIZE))
        .draw()?;
    Ok(())
}

/// Colours of successive curves (the "tab10" set).
const CURVE_COLOURS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

fn usable_point(x: f64, y: f64, log_y: bool) -> bool {
    x.is_finite() && y.is_finite() && (!log_y || y > 0.0)
}

/// The maximal runs of consecutive usable points (a gap breaks the line).
fn finite_runs(x: &[f64], y: &[f64], log_y: bool) -> Vec<Vec<(f64, f64)>> {
    let mut runs = vec![];
    let mut current = vec![];
    for (&xi, &yi) in x.iter().zip(y) {
        if usable_point(xi, yi, log_y) {
            current.push((xi, yi));
        } else if !current.is_empty() {
            runs.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

/// Check shape, lengths and spacings of one image.
fn check_image(path: &Path, spec: &ImageSpec, what: &str) -> Result<(), IoError> {
    let (nz, nx) = (spec.nz, spec.nx);
    if nz == 0 || nx == 0 {
        return Err(figure_error(
            path,
            format!("{what} shape [nz, nx] = [{nz}, {nx}] is empty; both must be at least 1"),
        ));
    }
    if nz.checked_mul(nx) != Some(spec.values.len()) {
        return Err(figure_error(
            path,
            format!(
                "{what} has {} values but nz * nx = {nz} * {nx}; values must be row-major [nz, nx]",
                spec.values.len()
            ),
        ));
    }
    check_spacing(path, &format!("{what} dx"), spec.dx)?;
    if nz > 1 {
        check_spacing(path, &format!("{what} dz"), spec.dz)?;
    }
    check_extent(path, &format!("{what} x extent"), &axis_range(nx, spec.dx))?;
    if nz > 1 {
        check_extent(path, &format!("{what} z extent"), &axis_range(nz, spec.dz))?;
    }
    Ok(())
}

fn check_spacing(path: &Path, what: &str, value: f64) -> Result<(), IoError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(figure_error(path, format!("{what} = {value} must be a positive finite number")))
    }
}

fn check_extent(path: &Path, what: &str, range: &Range<f64>) -> Result<(), IoError> {
    let width = range.end - range.start;
    if range.start.is_finite() && range.end.is_finite() && width.is_finite() && width > 0.0 {
        Ok(())
    } else {
        Err(figure_error(
            path,
            format!("{what} [{}, {}] cannot be drawn; it must be finite with min < max", range.start, range.end),
        ))
    }
}

/// The colour scale of a set of panels: the first panel's range, else the
/// finite min and max of all values (widened if they are equal).
fn colour_range(path: &Path, panels: &[ImageSpec]) -> Result<(f64, f64), IoError> {
    if let Some((lo, hi)) = panels.first().and_then(|p| p.range) {
        if !(lo.is_finite() && hi.is_finite() && lo < hi && (hi - lo).is_finite()) {
            return Err(figure_error(path, format!("colour range ({lo}, {hi}) must be finite with min < max")));
        }
        return Ok((lo, hi));
    }
    let mut bounds = Bounds::default();
    for panel in panels {
        panel.values.iter().for_each(|&v| bounds.add(v));
    }
    let (lo, hi) = bounds.range().ok_or_else(|| figure_error(path, "the model has no finite values to draw"))?;
    let (lo, hi) = widen(lo, hi);
    if !(hi - lo).is_finite() {
        return Err(figure_error(
            path,
            format!("the value range [{lo}, {hi}] is too wide to draw; give a finite colour range"),
        ));
    }
    Ok((lo, hi))
}

/// Running min and max of finite values.
#[derive(Default)]
struct Bounds(Option<(f64, f64)>);

impl Bounds {
    fn add(&mut self, v: f64) {
        if v.is_finite() {
            self.0 = Some(match self.0 {
                None => (v, v),
                Some((lo, hi)) => (lo.min(v), hi.max(v)),
            });
        }
    }

    fn range(&self) -> Option<(f64, f64)> {
        self.0
    }
}

/// `(lo, hi)` with equal ends widened so the range has a positive width.
fn widen(lo: f64, hi: f64) -> (f64, f64) {
    if hi > lo {
        (lo, hi)
    } else {
        let pad = (lo.abs() * 0.01).max(1e-9);
        (lo - pad, hi + pad)
    }
}

/// The axis range of `n` grid points spaced `d` from 0: `[0, (n - 1) d]`,
/// or one spacing centred on 0 for a single point.
fn axis_range(n: usize, d: f64) -> Range<f64> {
    if n > 1 { 0.0..(n - 1) as f64 * d } else { (-0.5 * d)..(0.5 * d) }
}

fn span(range: &Range<f64>) -> f64 {
    range.end - range.start
}

/// Index of the grid point nearest to coordinate `v` (spacing `d`, origin 0).
fn nearest_index(v: f64, d: f64, n: usize) -> usize {
    let i = (v / d).round();
    if i.is_nan() || i <= 0.0 { 0 } else { (i as usize).min(n - 1) }
}

/// Figure height for a wanted height, within the allowed limits.
fn scaled_height(wanted: f64) -> u32 {
    if wanted.is_finite() { (wanted.round() as u32).clamp(MIN_HEIGHT, MAX_HEIGHT) } else { MAX_HEIGHT }
}

/// Rows, columns and figure height that show `n` panels of the given aspect
/// (depth / width) largest.
fn grid_layout(n: usize, aspect: f64) -> (usize, usize, u32) {
    let available_width = f64::from(WIDTH - COLOUR_BAR_WIDTH);
    let mut best = (1, n, MIN_HEIGHT, f64::NEG_INFINITY);
    for columns in 1..=n {
        let rows = n.div_ceil(columns);
        let plot_width = available_width / columns as f64 - f64::from(CHART_EXTRA_WIDTH);
        let max_plot_height = f64::from(MAX_HEIGHT) / rows as f64 - f64::from(CHART_EXTRA_HEIGHT);
        if plot_width < 40.0 || max_plot_height < 40.0 {
            continue;
        }
        let plot_height = (plot_width * aspect).min(max_plot_height);
        // Area of the undistorted model image that fits in the panel.
        let shown_width = plot_width.min(plot_height / aspect.max(1e-9));
        let score = shown_width * plot_height;
        if score > best.3 {
            let height = scaled_height(rows as f64 * (plot_height + f64::from(CHART_EXTRA_HEIGHT)));
            best = (rows, columns, height, score);
        }
    }
    (best.0, best.1, best.2)
}

/// Symmetric clip level: the `percentile` of the finite `|values|`, or their
/// maximum if that is 0, or 1 for an all-zero gather; `None` if no finite value.
fn clip_level(values: &[f64], percentile: f64) -> Option<f64> {
    let mut magnitudes: Vec<f64> = values.iter().filter(|v| v.is_finite()).map(|v| v.abs()).collect();
    if magnitudes.is_empty() {
        return None;
    }
    let rank = ((magnitudes.len() - 1) as f64 * percentile).round() as usize;
    let rank = rank.min(magnitudes.len() - 1);
    let (_, &mut at_rank, above) = magnitudes.select_nth_unstable_by(rank, f64::total_cmp);
    let largest = above.iter().copied().fold(at_rank, f64::max);
    let clip = if at_rank > 0.0 { at_rank } else { largest };
    Some(if clip > 0.0 && clip.is_finite() { clip } else { 1.0 })
}

/// Render with `draw` into an RGB buffer, encode as PNG and write atomically.
fn render_png(
    path: &Path,
    (width, height): (u32, u32),
    draw: impl FnOnce(&Area) -> Result<(), DrawError>,
) -> Result<(), IoError> {
    register_font().map_err(|message| figure_error(path, message))?;
    let mut pixels = vec![255u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        let result = root
            .fill(&WHITE)
            .map_err(DrawError::from)
            .and_then(|()| draw(&root))
            .and_then(|()| root.present().map_err(DrawError::from));
        result.map_err(|e| figure_error(path, e.to_string()))?;
    }
    let mut png = Vec::new();
    image::ImageEncoder::write_image(
        image::codecs::png::PngEncoder::new(&mut png),
        &pixels,
        width,
        height,
        image::ColorType::Rgb8,
    )
    .map_err(|e| figure_error(path, format!("cannot encode PNG: {e}")))?;
    write_bytes_atomically(path, &png)
}

/// Register the bundled DejaVu Sans as plotters' "sans-serif" (once).
fn register_font() -> Result<(), &'static str> {
    static REGISTERED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular()).is_ok());
    if ok { Ok(()) } else { Err("the bundled DejaVu Sans font could not be loaded") }
}

/// A chart builder with the common title, margins and label areas.
fn chart_builder<'a, 'b>(area: &'a Area<'b>, title: &str) -> ChartBuilder<'a, 'b, BitMapBackend<'b>> {
    let mut builder = ChartBuilder::on(area);
    builder
        .caption(title, (FONT, CAPTION_SIZE))
        .margin(MARGIN)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA);
    builder
}

/// One 2D model panel: image, axes and frame (the colour bar is separate).
fn draw_image_panel(area: &Area, spec: &ImageSpec, range: (f64, f64), palette: Palette) -> Result<(), DrawError> {
    let x_range = axis_range(spec.nx, spec.dx);
    let z_range = axis_range(spec.nz, spec.dz);
    let z_down = z_range.end..z_range.start;
    let mut chart = chart_builder(area, spec.title).build_cartesian_2d(x_range.clone(), z_down.clone())?;
    paint(chart.plotting_area(), &x_range, &z_down, |x, z| {
        let (iz, ix) = (nearest_index(z, spec.dz, spec.nz), nearest_index(x, spec.dx, spec.nx));
        colour(palette, spec.values[iz * spec.nx + ix], range)
    })?;
    let (x_format, z_format) = (tick_formatter(&x_range), tick_formatter(&z_range));
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("x (m)")
        .y_desc("z (m)")
        .x_label_formatter(&x_format)
        .y_label_formatter(&z_format)
        .label_style((FONT, LABEL_SIZE))
        .axis_desc_style((FONT, AXIS_TITLE_SIZE))
        .draw()?;
    frame(chart.plotting_area(), &x_range, &z_range)
}

/// A 1D model: value against x (m); the colour range sets the y range.
fn draw_line_model(area: &Area, spec: &ImageSpec, range: (f64, f64)) -> Result<(), DrawError> {
    let pad = 0.05 * (range.1 - range.0);
    let y_range = (range.0 - pad)..(range.1 + pad);
    let x_range = axis_range(spec.nx, spec.dx);
    let mut chart = chart_builder(area, spec.title).build_cartesian_2d(x_range.clone(), y_range.clone())?;
    let (x_format, y_format) = (tick_formatter(&x_range), tick_formatter(&y_range));
    chart
        .configure_mesh()
        .x_desc("x (m)")
        .y_desc(spec.colour_label)
        .x_label_formatter(&x_format)
        .y_label_formatter(&y_format)
        .label_style((FONT, LABEL_SIZE))
        .axis_desc_style((FONT, AXIS_TITLE_SIZE))
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(210, 210, 210))
        .draw()?;
    let x: Vec<f64> = (0..spec.nx).map(|i| i as f64 * spec.dx).collect();
    let line_colour = match spec.palette {
        Palette::Viridis => RGBColor(33, 102, 172),
        Palette::Seismic => RGBColor(178, 24, 43),
    };
    for run in finite_runs(&x, &spec.values[..spec.nx], false) {
        let run = run.into_iter().map(|(x, y)| (x, y.clamp(y_range.start, y_range.end)));
        chart.draw_series(LineSeries::new(run, line_colour.stroke_width(2)))?;
    }
    Ok(())
}

/// A vertical colour bar for `range` with tick labels and `label`.
fn draw_colour_bar(area: &Area, range: (f64, f64), palette: Palette, label: &str) -> Result<(), DrawError> {
    let value_range = range.0..range.1;
    let mut chart = ChartBuilder::on(area)
        // An invisible caption keeps the bar level with the plotting areas.
        .caption(" ", (FONT, CAPTION_SIZE))
        .margin(MARGIN)
        .margin_left(4)
        .x_label_area_size(X_LABEL_AREA)
        .right_y_label_area_size(COLOUR_BAR_WIDTH - 2 * MARGIN - 4 - 22)
        .build_cartesian_2d(0.0..1.0, value_range.clone())?;
    paint(chart.plotting_area(), &(0.0..1.0), &value_range, |_, v| colour(palette, v, range))?;
    let format = tick_formatter(&value_range);
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .x_labels(0)
        .y_desc(label)
        .y_label_formatter(&format)
        .label_style((FONT, LABEL_SIZE))
        .axis_desc_style((FONT, AXIS_TITLE_SIZE))
        .draw()?;
    frame(chart.plotting_area(), &(0.0..1.0), &value_range)
}

/// Fill the plotting area pixel by pixel with `colour_at(x, y)` evaluated at
/// each pixel centre, in data coordinates (`x_range` left to right,
/// `y_range.start` at the bottom, `y_range.end` at the top).
fn paint(
    area: &PlotArea,
    x_range: &Range<f64>,
    y_range: &Range<f64>,
    colour_at: impl Fn(f64, f64) -> RGBColor,
) -> Result<(), DrawError> {
    let (columns, rows) = area.get_pixel_range();
    let (width, height) = (f64::from(columns.end - columns.start), f64::from(rows.end - rows.start));
    if width <= 0.0 || height <= 0.0 {
        return Ok(());
    }
    let xs: Vec<f64> = columns
        .clone()
        .map(|px| x_range.start + (f64::from(px - columns.start) + 0.5) / width * span(x_range))
        .collect();
    let screen = area.use_screen_coord();
    for py in rows.clone() {
        let y = y_range.end - (f64::from(py - rows.start) + 0.5) / height * span(y_range);
        for (px, &x) in columns.clone().zip(&xs) {
            screen.draw_pixel((px, py), &colour_at(x, y))?;
        }
    }
    Ok(())
}

/// A black frame around the plotting area.
fn frame(area: &PlotArea, x_range: &Range<f64>, y_range: &Range<f64>) -> Result<(), DrawError> {
    area.draw(&Rectangle::new([(x_range.start, y_range.start), (x_range.end, y_range.end)], BLACK.stroke_width(1)))?;
    Ok(())
}

/// Colour of `value` on `palette` over `range`; grey if not finite.
fn colour(palette: Palette, value: f64, (lo, hi): (f64, f64)) -> RGBColor {
    if !value.is_finite() {
        return MISSING;
    }
    let t = ((value - lo) / (hi - lo)).clamp(0.0, 1.0);
    let table: &[(u8, u8, u8)] = match palette {
        Palette::Viridis => &VIRIDIS,
        Palette::Seismic => &SEISMIC,
    };
    let position = t * (table.len() - 1) as f64;
    let i = (position.floor() as usize).min(table.len() - 2);
    let f = position - i as f64;
    let mix = |a: u8, b: u8| (f64::from(a) + f * (f64::from(b) - f64::from(a))).round() as u8;
    let (a, b) = (table[i], table[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Viridis, sampled at 9 equally spaced points.
const VIRIDIS: [(u8, u8, u8); 9] = [
    (68, 1, 84),
    (71, 44, 122),
    (59, 81, 139),
    (44, 113, 142),
    (33, 144, 141),
    (39, 173, 129),
    (92, 200, 99),
    (170, 220, 50),
    (253, 231, 37),
];

/// Diverging blue-white-red (reversed ColorBrewer RdBu), white in the middle.
const SEISMIC: [(u8, u8, u8); 11] = [
    (5, 48, 97),
    (33, 102, 172),
    (67, 147, 195),
    (146, 197, 222),
    (209, 229, 240),
    (247, 247, 247),
    (253, 219, 199),
    (244, 165, 130),
    (214, 96, 77),
    (178, 24, 43),
    (103, 0, 31),
];

/// Tick labels for an axis over `range`: as few decimals as the span needs,
/// scientific notation for very large or small magnitudes, and "0" for
/// round-off residues of zero.
fn tick_formatter(range: &Range<f64>) -> impl Fn(&f64) -> String + use<> {
    let range = range.clone();
    move |v: &f64| format_scientific_or_plain(*v, &range)
}

fn format_scientific_or_plain(v: f64, range: &Range<f64>) -> String {
    let width = (range.end - range.start).abs();
    let magnitude = range.start.abs().max(range.end.abs());
    if v.abs() <= width * 1e-9 {
        return "0".to_string();
    }
    if !(1e-2..1e5).contains(&magnitude) {
        // Enough mantissa digits to tell ticks apart across the span.
        let digits = ((v.abs() / width.max(f64::MIN_POSITIVE)).log10().ceil() + 1.0).clamp(1.0, 6.0) as usize;
        let text = format!("{v:.digits$e}");
        match text.split_once('e') {
            Some((mantissa, exponent)) => format!("{}e{exponent}", trim_zeros(mantissa)),
            None => text,
        }
    } else {
        let decimals = ((-width.log10()).ceil() + 2.0).clamp(0.0, 6.0) as usize;
        let text = trim_zeros(&format!("{v:.decimals$}")).to_string();
        if text == "-0" { "0".to_string() } else { text }
    }
}

/// A tick label on a logarithmic axis, formatted by its own magnitude
/// (decades such as 1e-5 or 0.01).
fn format_log_tick(v: f64) -> String {
    if v <= 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let decade = v.log10().floor();
    if (-2.0..4.0).contains(&decade) {
        let decimals = (3.0 - decade).clamp(0.0, 6.0) as usize;
        trim_zeros(&format!("{v:.decimals$}")).to_string()
    } else {
        let text = format!("{v:.2e}");
        match text.split_once('e') {
            Some((mantissa, exponent)) => format!("{}e{exponent}", trim_zeros(mantissa)),
            None => text,
        }
    }
}

fn trim_zeros(text: &str) -> &str {
    if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.') } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// Check `path` is a PNG of the expected width with several colours;
    /// returns the height.
    fn check_png(path: &Path, width: u32) -> u32 {
        let bytes = std::fs::read(path).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let image = image::load_from_memory_with_format(&bytes, image::ImageFormat::Png).unwrap().to_rgb8();
        assert_eq!(image.width(), width);
        let colours: HashSet<[u8; 3]> = image.pixels().map(|p| p.0).collect();
        assert!(colours.len() > 20, "only {} colours in {}", colours.len(), path.display());
        image.height()
    }

    fn layered_model(nz: usize, nx: usize) -> Vec<f64> {
        let mut values = Vec::with_capacity(nz * nx);
        for iz in 0..nz {
            for ix in 0..nx {
                let bump = if (iz as f64 - nz as f64 / 2.0).hypot(ix as f64 - nx as f64 / 2.0) < nz as f64 / 5.0 {
                    400.0
                } else {
                    0.0
                };
                values.push(1500.0 + 2500.0 * iz as f64 / nz as f64 + bump);
            }
        }
        values
    }

    fn model_spec<'a>(values: &'a [f64], nz: usize, nx: usize) -> ImageSpec<'a> {
        ImageSpec {
            values,
            nz,
            nx,
            dz: 10.0,
            dx: 10.0,
            title: "true model",
            colour_label: "vp (m/s)",
            range: None,
            palette: Palette::Viridis,
        }
    }

    fn gather(nt: usize, nrec: usize) -> (Vec<f64>, Vec<f64>) {
        let mut traces = vec![0.0; nt * nrec];
        for ir in 0..nrec {
            let offset = (ir as f64 - nrec as f64 / 3.0).abs();
            let arrival = 0.05 + offset * 0.004;
            for it in 0..nt {
                let t = it as f64 * 0.001 - arrival;
                let a = (std::f64::consts::PI * 25.0 * t).powi(2);
                traces[it * nrec + ir] = (1.0 - 2.0 * a) * (-a).exp() / (1.0 + offset * 0.05);
            }
        }
        let receiver_x = (0..nrec).map(|i| 20.0 * i as f64).collect();
        (traces, receiver_x)
    }

    #[test]
    fn model_png() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.png");
        let values = layered_model(60, 150);
        plot_model(&path, &model_spec(&values, 60, 150)).unwrap();
        let height = check_png(&path, WIDTH);
        assert!((MIN_HEIGHT..=MAX_HEIGHT).contains(&height));
        // No temporary file left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

        // Deep narrow model: height clamped.
        let values = layered_model(400, 20);
        plot_model(&path, &model_spec(&values, 400, 20)).unwrap();
        assert_eq!(check_png(&path, WIDTH), MAX_HEIGHT);

        // Signed field with explicit range and NaNs.
        let mut values: Vec<f64> = layered_model(30, 30).iter().map(|v| v - 2500.0).collect();
        values[5] = f64::NAN;
        let spec = ImageSpec {
            range: Some((-1000.0, 1000.0)),
            palette: Palette::Seismic,
            title: "gradient",
            ..model_spec(&values, 30, 30)
        };
        plot_model(&path, &spec).unwrap();
        check_png(&path, WIDTH);
    }

    #[test]
    fn one_d_model_is_a_line_plot() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model1d.png");
        let values: Vec<f64> = (0..200).map(|i| 1.0 + (i as f64 * 0.05).sin()).collect();
        let spec = ImageSpec { colour_label: "diffusivity (m²/s)", ..model_spec(&values, 1, 200) };
        plot_model(&path, &spec).unwrap();
        check_png(&path, WIDTH);
        // Constant model still draws (range widened).
        let values = vec![2.0; 50];
        plot_model(&path, &model_spec(&values, 1, 50)).unwrap();
    }

    #[test]
    fn gather_png() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gather.png");
        let (traces, receiver_x) = gather(500, 60);
        let spec = GatherSpec {
            traces: &traces,
            nt: 500,
            nrec: 60,
            dt: 0.001,
            receiver_x: &receiver_x,
            title: "shot 1",
            clip_percentile: 0.99,
        };
        plot_gather(&path, &spec).unwrap();
        assert_eq!(check_png(&path, WIDTH), GATHER_HEIGHT);

        // Single receiver, all-zero data: still draws.
        let zeros = vec![0.0; 10];
        let one = [100.0];
        let spec = GatherSpec { traces: &zeros, nt: 10, nrec: 1, receiver_x: &one, ..spec };
        plot_gather(&path, &spec).unwrap();
    }

    #[test]
    fn curves_png() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("misfit.png");
        let iterations: Vec<f64> = (0..30).map(f64::from).collect();
        let misfit: Vec<f64> = iterations.iter().map(|i| 10f64.powf(-0.15 * i)).collect();
        let other: Vec<f64> = iterations.iter().map(|i| 0.5 * 10f64.powf(-0.1 * i)).collect();
        let series = [("L-BFGS", &iterations[..], &misfit[..]), ("steepest descent", &iterations[..], &other[..])];
        for log_y in [true, false] {
            let spec = CurveSpec { series: &series, title: "misfit", x_label: "iteration", y_label: "misfit", log_y };
            plot_curves(&path, &spec).unwrap();
            assert_eq!(check_png(&path, WIDTH), CURVE_HEIGHT);
        }
    }

    #[test]
    fn side_by_side_png() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("compare.png");
        let truth = layered_model(50, 100);
        let start: Vec<f64> = truth.iter().map(|v| v - 200.0).collect();
        let result: Vec<f64> = truth.iter().map(|v| v + 100.0).collect();
        let panels = [
            model_spec(&truth, 50, 100),
            ImageSpec { title: "initial", ..model_spec(&start, 50, 100) },
            ImageSpec { title: "inverted", ..model_spec(&result, 50, 100) },
        ];
        assert_eq!(
            colour_range(&path, &panels).unwrap(),
            (1300.0, truth.iter().copied().fold(f64::MIN, f64::max) + 100.0)
        );
        plot_models_side_by_side(&path, &panels).unwrap();
        check_png(&path, WIDTH);
        plot_models_side_by_side(&path, &panels[..1]).unwrap();
        assert!(plot_models_side_by_side(&path, &[]).is_err());
    }

    #[test]
    fn bad_input_is_a_figure_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.png");
        let values = vec![1.0; 12];
        let message = |result: Result<(), IoError>| {
            let error = result.unwrap_err();
            assert!(matches!(error, IoError::Figure { .. }), "{error}");
            let text = error.to_string();
            assert!(text.contains("bad.png") && !text.contains('\n'), "{text}");
            text
        };
        assert!(message(plot_model(&path, &model_spec(&values, 3, 5))).contains("12 values but nz * nx = 3 * 5"));
        assert!(message(plot_model(&path, &model_spec(&[], 0, 5))).contains("empty"));
        assert!(message(plot_model(&path, &ImageSpec { dx: 0.0, ..model_spec(&values, 3, 4) })).contains("dx = 0"));
        let nan_range = ImageSpec { range: Some((0.0, f64::NAN)), ..model_spec(&values, 3, 4) };
        assert!(message(plot_model(&path, &nan_range)).contains("colour range"));
        let nans = vec![f64::NAN; 12];
        assert!(message(plot_model(&path, &model_spec(&nans, 3, 4))).contains("no finite values"));
        let huge = vec![-f64::MAX, f64::MAX, 0.0, 1.0];
        assert!(message(plot_model(&path, &model_spec(&huge, 2, 2))).contains("too wide"));

        let (traces, receiver_x) = gather(20, 4);
        let good = GatherSpec {
            traces: &traces,
            nt: 20,
            nrec: 4,
            dt: 0.001,
            receiver_x: &receiver_x,
            title: "g",
            clip_percentile: 0.99,
        };
        assert!(message(plot_gather(&path, &GatherSpec { nt: 19, ..good })).contains("nt * nrec"));
        assert!(
            message(plot_gather(&path, &GatherSpec { receiver_x: &receiver_x[..3], ..good }))
                .contains("receiver positions")
        );
        assert!(message(plot_gather(&path, &GatherSpec { clip_percentile: 0.0, ..good })).contains("(0, 1]"));
        assert!(message(plot_gather(&path, &GatherSpec { dt: f64::INFINITY, ..good })).contains("dt"));

        let x = [1.0, 2.0];
        let y = [1.0];
        let series = [("a", &x[..], &y[..])];
        let spec = CurveSpec { series: &series, title: "t", x_label: "x", y_label: "y", log_y: false };
        assert!(message(plot_curves(&path, &spec)).contains("2 x values but 1 y values"));
        let y = [-1.0, 0.0];
        let series = [("a", &x[..], &y[..])];
        assert!(
            message(plot_curves(&path, &CurveSpec { series: &series, log_y: true, ..spec })).contains("positive y")
        );
        assert!(message(plot_curves(&path, &CurveSpec { series: &[], ..spec })).contains("at least one"));

        // Missing directory: nothing written, clear error.
        let missing = dir.path().join("no/such/dir/m.png");
        assert!(plot_model(&missing, &model_spec(&values, 3, 4)).unwrap_err().to_string().contains("does not exist"));
        assert!(!path.exists());
    }

    #[test]
    fn palettes_and_ticks() {
        assert_eq!(colour(Palette::Seismic, 0.0, (-1.0, 1.0)), RGBColor(247, 247, 247));
        assert_eq!(colour(Palette::Viridis, -5.0, (0.0, 1.0)), RGBColor(68, 1, 84));
        assert_eq!(colour(Palette::Viridis, 5.0, (0.0, 1.0)), RGBColor(253, 231, 37));
        assert_eq!(colour(Palette::Viridis, f64::NAN, (0.0, 1.0)), MISSING);
        let f = tick_formatter(&(1500.0..4500.0));
        assert_eq!((f(&1500.0), f(&2000.0)), ("1500".to_string(), "2000".to_string()));
        let f = tick_formatter(&(0.0..0.5));
        assert_eq!((f(&0.1), f(&0.25), f(&1e-17)), ("0.1".to_string(), "0.25".to_string(), "0".to_string()));
        let f = tick_formatter(&(0.0..2e-4));
        assert_eq!(f(&1e-4), "1e-4");
        let f = tick_formatter(&(0.0..3e6));
        assert_eq!(f(&2.5e6), "2.5e6");
        assert_eq!(
            (format_log_tick(1e-3), format_log_tick(0.01), format_log_tick(1.0)),
            ("1e-3".into(), "0.01".into(), "1".into())
        );
        assert_eq!((format_log_tick(2.5e-7), format_log_tick(1e5)), ("2.5e-7".into(), "1e5".into()));
        assert_eq!(clip_level(&[0.0, 0.0, 0.0, 3.0], 0.5), Some(3.0));
        assert_eq!(clip_level(&[0.0; 4], 0.99), Some(1.0));
        assert_eq!(clip_level(&[f64::NAN], 0.99), None);
        let values: Vec<f64> = (0..=100).map(|i| -f64::from(i)).collect();
        assert_eq!(clip_level(&values, 0.99), Some(99.0));
    }

    #[test]
    fn large_model_renders_quickly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.png");
        let values = layered_model(1000, 1000);
        let start = std::time::Instant::now();
        plot_model(&path, &model_spec(&values, 1000, 1000)).unwrap();
        let elapsed = start.elapsed();
        check_png(&path, WIDTH);
        // Generous: the test profile is optimised; a per-cell renderer takes far longer.
        assert!(elapsed.as_secs_f64() < 5.0, "took {elapsed:?}");
    }

    /// Writes figures to the temporary directory for a person to look at:
    /// `cargo test -p pdeinv-io --lib figure::tests::write_check_figures -- --ignored`.
    #[test]
    #[ignore]
    fn write_check_figures() {
        let tmp = std::env::temp_dir();
        let values = layered_model(80, 200);
        plot_model(&tmp.join("figure_check_model.png"), &model_spec(&values, 80, 200)).unwrap();
        let (traces, receiver_x) = gather(600, 80);
        let spec = GatherSpec {
            traces: &traces,
            nt: 600,
            nrec: 80,
            dt: 0.001,
            receiver_x: &receiver_x,
            title: "shot 1",
            clip_percentile: 0.99,
        };
        plot_gather(&tmp.join("figure_check_gather.png"), &spec).unwrap();
        let iterations: Vec<f64> = (0..30).map(f64::from).collect();
        let misfit: Vec<f64> = iterations.iter().map(|i| 10f64.powf(-0.15 * i)).collect();
        let other: Vec<f64> = iterations.iter().map(|i| 0.5 * 10f64.powf(-0.1 * i)).collect();
        let series = [("L-BFGS", &iterations[..], &misfit[..]), ("steepest descent", &iterations[..], &other[..])];
        let spec = CurveSpec { series: &series, title: "misfit", x_label: "iteration", y_label: "misfit", log_y: true };
        plot_curves(&tmp.join("figure_check_curves.png"), &spec).unwrap();
        let start: Vec<f64> = values.iter().map(|v| v - 300.0).collect();
        let panels = [model_spec(&values, 80, 200), ImageSpec { title: "initial", ..model_spec(&start, 80, 200) }];
        plot_models_side_by_side(&tmp.join("figure_check_side.png"), &panels).unwrap();
        let line: Vec<f64> = (0..200).map(|i| 1.0 + (i as f64 * 0.05).sin()).collect();
        let spec = ImageSpec { colour_label: "diffusivity (m²/s)", ..model_spec(&line, 1, 200) };
        plot_model(&tmp.join("figure_check_1d.png"), &spec).unwrap();
    }
}
