//! The progress bar of an image pull: bytes over all layers, as `docker pull` shows them, on stderr (hidden
//! when stderr is not a terminal, where a log line at the end says how it went).

use bollard::models::CreateImageInfo;
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::HashMap;
use std::time::Instant;

pub struct PullProgress {
    image: String,
    bar: ProgressBar,
    /// Downloaded and total bytes per layer id.
    layers: HashMap<String, (u64, u64)>,
    started: Instant,
}

impl PullProgress {
    pub fn new(image: &str) -> Self {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {bytes}/{total_bytes} {msg}")
                .expect("the template is valid")
                .progress_chars("=> "),
        );
        bar.set_prefix(format!("pulling {image}"));
        Self { image: image.to_string(), bar, layers: HashMap::new(), started: Instant::now() }
    }

    pub fn update(&mut self, info: &CreateImageInfo) {
        if let (Some(id), Some(detail)) = (&info.id, &info.progress_detail) {
            if let (Some(current), Some(total)) = (detail.current, detail.total) {
                if info.status.as_deref() == Some("Downloading") {
                    self.layers.insert(id.clone(), (current.max(0) as u64, total.max(0) as u64));
                }
            }
        }
        let (done, total) = self.layers.values().fold((0, 0), |(d, t), (c, l)| (d + c, t + l));
        self.bar.set_length(total);
        self.bar.set_position(done);
        if let Some(status) = &info.status {
            self.bar.set_message(status.clone());
        }
    }

    pub fn finish(self) {
        self.bar.finish_and_clear();
        tracing::info!("pulled {} in {:.1} s", self.image, self.started.elapsed().as_secs_f64());
    }

    pub fn abandon(self) {
        self.bar.abandon();
    }
}
