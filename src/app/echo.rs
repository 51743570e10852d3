//! `ipc-lab echo TOPIC`: subscribes from this process, like `ros2 topic echo`, and prints
//! each message as YAML, or with `--raw` its CDR bytes in hex, one message per line.

use std::io::Write;
use std::thread;
use std::time::Duration;

use crossbeam_channel::{bounded, RecvTimeoutError, Sender};

use super::AppError;
use crate::cli::plan::{EchoPlan, Plan};
use crate::demos::DemoError;
use crate::engine::msg::sensor_msgs::Image;
use crate::engine::msg::std_msgs::{Int32, String as StringMsg};
use crate::engine::msg::KnownType;
use crate::engine::transport::{discovery, runtime_dir, FoundPublisher, TransportKind, TransportOptions, SCAN_PERIOD};
use crate::engine::{
    ConstSharedPtr, Context, CreateError, InitOptions, Message, Node, NodeOptions, QoS, Serialized,
    SingleThreadedExecutor,
};
use crate::i18n::particle::{particle, Particle};
use crate::i18n::Lang;

/// The CDR bytes as `--raw` prints them: `00 01 00 00 2a 00 00 00`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

/// The type another process of the domain publishes `topic` with, once one does: from
/// DDS discovery on DDS (which sees real ROS 2 nodes too), else from the announcements in
/// the runtime directory.
fn wait_for_type(ctx: &Context, plan: &Plan, echo: &EchoPlan) -> Option<FoundPublisher> {
    let topic = echo.topic.as_str();
    let mut said = false;
    while ctx.ok() {
        let found =
            if echo.transport == TransportKind::Dds { ctx.found_publisher(topic) } else { announced(plan, topic) };
        if found.is_some() {
            return found;
        }
        if !said {
            said = true;
            let note = match plan.lang {
                Lang::Ko => format!(
                    "'{topic}'{} 발행하는 프로세스를 기다립니다... (Ctrl-C로 멈춤)",
                    particle(topic, Particle::Object)
                ),
                Lang::En => format!("waiting for a process publishing '{topic}'... (Ctrl-C to stop)"),
            };
            super::notice(&note);
        }
        ctx.sleep_for(SCAN_PERIOD);
    }
    None
}

/// A publisher of `topic` announced in the runtime directory by another process of the
/// domain. Announcements carry no QoS: echo asks for reliable, as it always has there.
fn announced(plan: &Plan, topic: &str) -> Option<FoundPublisher> {
    let announcements = discovery::read_all(&runtime_dir::location());
    let found = announcements
        .iter()
        .filter(|a| a.domain == plan.domain && a.pid != std::process::id())
        .flat_map(|a| &a.publishers)
        .find(|p| p.topic == topic)?;
    Some(FoundPublisher { type_name: found.type_name.clone(), reliable: true })
}

/// Subscribes to `topic` as `M`, keeping the bytes as they arrived.
fn subscribe<M: Message>(
    node: &Node,
    topic: &str,
    qos: QoS,
    raw: bool,
    tx: Sender<String>,
) -> Result<crate::engine::Subscription<Serialized<M>>, CreateError> {
    node.create_subscription(topic, qos, move |msg: ConstSharedPtr<Serialized<M>>| {
        let text = if raw { format!("{}\n", hex(&msg.cdr)) } else { format!("{}---\n", msg.to_yaml()) };
        let _ = tx.send(text);
    })
}

pub(super) fn run(plan: &Plan, echo: &EchoPlan, out: &mut dyn Write) -> Result<(), AppError> {
    let mut options = InitOptions::default().domain_id(plan.domain);
    if let Some(n) = echo.count {
        options = options.shutdown_after_receipts(n);
    }
    let ctx = Context::init_with(options);
    let command = plan.command_line.clone();
    ctx.enable_transport(TransportOptions { kind: echo.transport, command }).map_err(AppError::Transport)?;
    let Some(FoundPublisher { type_name, reliable }) = wait_for_type(&ctx, plan, echo) else {
        return super::transport_lost();
    };
    // Keep last 10, best effort if a publisher is (a reliable subscription would not hear it).
    let qos = if reliable { QoS::keep_last(10) } else { QoS::keep_last(10).best_effort() };
    let node = Node::new(&ctx, "echo", NodeOptions::default()).map_err(|e| AppError::Echo(DemoError::Node(e)))?;
    let (tx, rx) = bounded(256);
    let Some(known) = KnownType::from_name(&type_name) else {
        return Err(AppError::UnknownType { topic: echo.topic.clone(), type_name });
    };
    let created = match known {
        KnownType::Int32 => {
            subscribe::<Int32>(&node, &echo.topic, qos, echo.raw, tx).map(|s| Box::new(s) as Box<dyn Send>)
        }
        KnownType::String => subscribe::<StringMsg>(&node, &echo.topic, qos, echo.raw, tx).map(|s| Box::new(s) as _),
        KnownType::Image => subscribe::<Image>(&node, &echo.topic, qos, echo.raw, tx).map(|s| Box::new(s) as _),
    };
    let _subscription = created.map_err(|e| AppError::Echo(DemoError::Create(e)))?;
    let spinner = {
        let node = node.clone();
        thread::spawn(move || {
            let mut executor = SingleThreadedExecutor::new();
            executor.add_node(&node);
            executor.spin();
        })
    };
    let mut result = Ok(());
    loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(text) => {
                if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                    ctx.shutdown();
                    result = Err(AppError::Output(e));
                    break;
                }
            }
            Err(RecvTimeoutError::Timeout) if spinner.is_finished() && rx.is_empty() => break,
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    let _ = spinner.join();
    result.and_then(|()| super::transport_lost())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::NodeError;

    /// A failure of echo's own node or subscription is said as echo's, in both languages,
    /// not as "the demo could not start".
    #[test]
    fn echo_failures_are_echos() {
        let error = AppError::Echo(DemoError::Node(NodeError::InvalidName("1echo".into())));
        let en = error.message(Lang::En);
        assert!(en.starts_with("error: echo could not subscribe") && !en.contains("demo"), "{en}");
        let ko = error.message(Lang::Ko);
        assert!(ko.starts_with("오류: echo가") && !ko.contains("데모"), "{ko}");
    }
}
