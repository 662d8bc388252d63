//! The code of the service's functions: which [`Runtime`] and code unit each function runs, preparing the units
//! through their runtime, and what each unit's new processes start from. Used at start-up, for each live edit of
//! `serverless.yml` and for each rebuild after a source edit; [`specs`] turns it into functions ready to run.

use crate::aws::endpoints::LocalEndpoints;
use crate::aws::names;
use crate::config::intrinsics::Intrinsics;
use crate::config::{self, Function, Service};
use crate::error::Error;
use crate::lambda::runtimes::layers;
use crate::lambda::runtimes::node::NodeRuntime;
use crate::lambda::runtimes::python::PythonRuntime;
use crate::lambda::runtimes::rust::RustRuntime;
use crate::lambda::runtimes::{Launch, Prepared, Runtime, Units};
use crate::lambda::spec::FunctionSpec;
use crate::options::EmulatorOptions;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// The units of each runtime, in the order of [`FunctionCode`]'s runtimes.
pub type UnitsByRuntime = Vec<Units>;

/// The runtimes, the units the running plan uses, and what each unit starts from.
pub struct FunctionCode {
    runtimes: Vec<Box<dyn Runtime>>,
    units: UnitsByRuntime,
    /// Per runtime, the launch of each unit prepared so far.
    prepared: Vec<Prepared>,
    /// Each preparation stages a new generation.
    generation: u64,
}

impl FunctionCode {
    pub fn new(options: &EmulatorOptions) -> Self {
        let instance = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
        let runtimes: Vec<Box<dyn Runtime>> = vec![
            Box::new(RustRuntime::new(options.build)),
            Box::new(NodeRuntime::new(options.node.clone(), &instance)),
            Box::new(PythonRuntime::new(options.python.clone(), &instance)),
        ];
        let empty = vec![Units::new(); runtimes.len()];
        Self { prepared: vec![Prepared::new(); runtimes.len()], units: empty, runtimes, generation: 0 }
    }

    /// Which unit of which runtime each function of `service` runs. A function no runtime runs is an error
    /// located in `serverless.yml`.
    pub fn units_of(&self, service: &Service) -> Result<UnitsByRuntime, Error> {
        let mut units = vec![Units::new(); self.runtimes.len()];
        for function in service.functions.values() {
            let Some((index, unit)) = self.runtime_of(function) else {
                return Err(not_runnable(service, function));
            };
            units[index].entry(unit).or_default().push(function.key.clone());
        }
        Ok(units)
    }

    /// Prepares the units of `units` not prepared yet (all of them at start-up; those a live edit adds later).
    /// Returns their names.
    pub async fn prepare_missing(&mut self, service: &Service, units: &UnitsByRuntime) -> Result<Vec<String>, Error> {
        let mut added = Vec::new();
        for (index, runtime) in self.runtimes.iter_mut().enumerate() {
            let missing: Units = units[index]
                .iter()
                .filter(|(name, _)| !matches!(self.prepared[index].get(*name), Some(Ok(_))))
                .map(|(name, functions)| (name.clone(), functions.clone()))
                .collect();
            if missing.is_empty() {
                continue;
            }
            let names: Vec<&str> = missing.keys().map(String::as_str).collect();
            tracing::debug!(target: "build", "{} runtime: preparing {}", runtime.name(), names.join(", "));
            let prepared = runtime.prepare(service, &missing, self.generation).await?;
            added.extend(prepared.keys().cloned());
            self.prepared[index].extend(prepared);
        }
        self.generation += 1;
        Ok(added)
    }

    /// Makes `units` the running plan's (after the plan that uses them was checked).
    pub fn adopt(&mut self, units: UnitsByRuntime) {
        self.units = units;
    }

    /// What `function`'s processes start from: its unit and launch, or why it cannot run.
    pub fn launch_of(&self, function: &Function) -> (String, Result<Launch, String>) {
        let Some((index, unit)) = self.runtime_of(function) else {
            return (String::new(), Err(format!("no runtime runs the function {}", function.key)));
        };
        let launch = match self.prepared[index].get(&unit) {
            Some(prepared) => prepared.clone(),
            None => Err(format!("the binary `{unit}` is not built")),
        };
        (unit, launch)
    }

    /// Every folder to watch for edits of the running plan's units, and whether with everything below it.
    pub fn sources(&self) -> BTreeMap<PathBuf, bool> {
        let mut folders = BTreeMap::new();
        for (runtime, units) in self.runtimes.iter().zip(&self.units) {
            for (folder, recursive) in runtime.watched(units) {
                *folders.entry(folder).or_insert(recursive) |= recursive;
            }
        }
        folders
    }

    /// The units of each runtime whose sources include one of `changed`.
    pub fn affected(&self, changed: &[PathBuf]) -> UnitsByRuntime {
        self.runtimes
            .iter()
            .zip(&self.units)
            .map(|(runtime, units)| {
                units
                    .iter()
                    .filter(|(unit, _)| changed.iter().any(|path| runtime.changes(unit, path)))
                    .map(|(unit, functions)| (unit.clone(), functions.clone()))
                    .collect()
            })
            .collect()
    }

    /// Rebuilds `affected` units and returns what each new build starts from (or why it cannot run). An error
    /// means a build failed (its errors have been shown) and nothing changed.
    pub async fn rebuild(&mut self, service: &Service, affected: &UnitsByRuntime) -> Result<Prepared, Error> {
        let mut rebuilt = Prepared::new();
        for (index, runtime) in self.runtimes.iter_mut().enumerate() {
            if affected[index].is_empty() {
                continue;
            }
            let prepared = runtime.rebuild(service, &affected[index], self.generation).await?;
            for (unit, launch) in prepared {
                if launch.is_ok() {
                    self.prepared[index].insert(unit.clone(), launch.clone());
                }
                rebuilt.insert(unit, launch);
            }
        }
        self.generation += 1;
        Ok(rebuilt)
    }

    /// Where the runtimes keep what they staged for this emulator.
    pub fn staging_dirs(&self) -> Vec<PathBuf> {
        self.runtimes.iter().filter_map(|r| r.staging_dir()).collect()
    }

    fn runtime_of(&self, function: &Function) -> Option<(usize, String)> {
        self.runtimes
            .iter()
            .enumerate()
            .find_map(|(index, runtime)| runtime.unit_of(function).map(|unit| (index, unit)))
    }
}

/// Why no runtime runs `function`, located in `serverless.yml`.
fn not_runnable(service: &Service, function: &Function) -> Error {
    let key = &function.key;
    let (path, reason) = match function.runtime.as_deref() {
        Some(runtime) if !runtime.starts_with("provided") => (
            format!("functions.{key}.runtime"),
            format!("function `{key}` runs {runtime}, which ftb-offline does not run: it runs Node.js (nodejs18.x … nodejs24.x), Python (python3.9 … python3.13) and Rust binaries on provided.al2023 / provided.al2"),
        ),
        _ => (
            format!("functions.{key}"),
            format!("function `{key}` names no Rust binary: set package.artifact to target/lambda/<binary>/bootstrap.zip (cargo-lambda's layout), or give it a nodejs or python runtime and handler"),
        ),
    };
    let location = service.locate(config::ConfigError::at_path(path, "")).location;
    Error::Build(format!("{}{reason}", location.map(|l| format!("{l}: ")).unwrap_or_default()))
}

/// Every function as a spec: what its processes start from, limits and resolved environment.
pub fn specs(
    service: &Service,
    endpoints: &LocalEndpoints,
    options: &EmulatorOptions,
    code: &FunctionCode,
) -> Result<Vec<FunctionSpec>, Error> {
    let intrinsics = Intrinsics::new(service, endpoints);
    let mut specs = Vec::new();
    for function in service.functions.values() {
        let (unit, launch) = code.launch_of(function);
        let (launch, unavailable) = match launch {
            Ok(launch) => (launch, None),
            Err(reason) => (Launch::program(PathBuf::from(&unit)), Some(reason)),
        };
        if let Some(reason) = &unavailable {
            tracing::warn!("{reason}; invocations of {} will fail until it exists", function.key);
        }
        let environment = intrinsics.environment(function)?.into_iter().collect();
        specs.push(FunctionSpec {
            key: function.key.clone(),
            name: function.name.clone(),
            arn: names::lambda_arn(&service.region, &function.name),
            unit,
            launch,
            handler: function.handler.clone().unwrap_or_else(|| "bootstrap".into()),
            region: service.region.clone(),
            runtime: function.runtime.clone().unwrap_or_else(|| "provided.al2023".into()),
            memory_mb: function.memory_size_mb,
            timeout: (!service.offline.no_timeout).then(|| Duration::from_secs_f64(function.timeout_seconds)),
            max_concurrency: function.reserved_concurrency.map(|n| n as usize).unwrap_or(options.max_concurrency),
            async_retries: function.maximum_retry_attempts,
            max_event_age: Duration::from_secs(function.maximum_event_age_seconds.into()),
            environment,
            endpoints: endpoints.clone(),
            dynamodb_endpoint: options.dynamodb_endpoint.clone(),
            unavailable,
            extensions: layers::extensions(&layers::folders(service, function)),
        });
    }
    Ok(specs)
}
