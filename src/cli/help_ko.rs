//! `--help` in Korean. clap's help comes from the doc comments in [`super::args`], which
//! are English; with `--lang ko` (or `IPC_LAB_LANG=ko`, or a Korean locale) the same
//! command tree is given the Korean text below, clap's own words ("Usage:", "Options:",
//! `[default: ...]`) included. A test checks that every visible command and argument has
//! its Korean text, so a new flag cannot slip through in English only.
//!
//! ```
//! use ipc_lab::cli::help_ko::command;
//! use ipc_lab::i18n::Lang;
//!
//! let mut cmd = command(Lang::Ko);
//! let help = cmd.find_subcommand_mut("two-node").unwrap().render_help().to_string();
//! assert!(help.contains("사용법:"));
//! assert!(help.contains("[기본값: 1s]"));
//! ```

use clap::{Arg, Command, CommandFactory};

use super::args::Cli;
use crate::i18n::Lang;

/// What a subcommand does, in Korean, by its name.
const ABOUT: &[(&str, &str)] = &[
    ("", "ROS 없이 돌리는 ROS 2 프로세스 내 통신(IPC) 데모: 모든 주소, pid, 복사를 보여 줍니다"),
    ("two-node", "two_node_pipeline: producer와 consumer가 주기마다 새 숫자를 주고받습니다"),
    ("cyclic", "cyclic_pipeline: 두 파이프가 메시지 하나를 끝없이 돌리며, 지날 때마다 1을 더합니다"),
    (
        "copies",
        "구독(U = 소유권을 가져감, S = 공유)을 만들고 메시지 하나를 발행해서, 누가 원본을 받고 누가 복사본을 받는지 봅니다. 예: `ipc-lab copies U,U,S,S`",
    ),
    ("node", "데모의 노드 하나를 이 프로세스에서 돌립니다. 터미널 여러 개로 하는 실험용입니다"),
    ("echo", "이 프로세스에서 토픽의 메시지를 찍습니다. `ros2 topic echo`와 같습니다"),
    ("ps", "돌고 있는 ipc-lab 프로세스의 목록: pid, 노드, 토픽, IPC 모드, 메모리"),
    ("lesson", "이 장을 따라가는 한국어 강의: 목록을 보거나 하나를 읽습니다. 예: `ipc-lab lesson 3`"),
    (
        "bench",
        "경로마다(IPC 켬, IPC 끔, 소켓, 공유 메모리) 한 홉(hop)의 비용을 물리적 한계와 나란히 이 컴퓨터에서 잽니다: 1분쯤, --quick이면 몇 초",
    ),
    (
        "image-pipeline",
        "image_pipeline_all_in_one: camera_node -> watermark_node -> image_view_node, 노드마다 자기 pid와 메시지의 포인터를 프레임에 씁니다",
    ),
    ("help", "이 도움말이나, 주어진 명령의 도움말을 보여 줍니다"),
];

/// An argument's help in Korean, by subcommand and argument id; `*` stands for any
/// subcommand (the global flags and the ones several commands share).
const ARGS: &[(&str, &str, &str)] = &[
    ("*", "lang", "도구 자신의 설명, 요약, 오류의 언어 [기본값: IPC_LAB_LANG, 없으면 LC_ALL/LANG에서]"),
    ("*", "color", "색을 쓸지 (auto는 NO_COLOR를 따릅니다)"),
    ("*", "domain", "ROS_DOMAIN_ID처럼, 같은 도메인(domain)의 프로세스끼리만 통신합니다"),
    ("*", "help", "도움말을 보여 줍니다"),
    ("*", "version", "버전을 보여 줍니다"),
    ("*", "ipc", "프로세스 내 통신(IPC): on(원본 데모처럼), off(미들웨어 경로), both(둘을 나란히)"),
    ("node", "ipc", "이 노드의 프로세스 내 통신(IPC)"),
    ("*", "count", "메시지 N개를 받으면 멈춥니다 [기본값: 원본 데모처럼 Ctrl-C까지]"),
    ("node", "count", "이 노드가 메시지 N개를 받으면 멈춥니다 [기본값: Ctrl-C까지]"),
    ("echo", "count", "메시지 N개를 받으면 멈춥니다 [기본값: Ctrl-C까지]"),
    ("*", "period", "타이머 주기이자 cyclic이 쉬는 시간. 1s, 250ms, 0(최대한 빨리) 같은 값"),
    ("*", "split", "노드마다 자식 프로세스를 따로 띄웁니다. 이 장의 터미널 두 개와 같습니다"),
    (
        "*",
        "depth",
        "모든 큐의 keep-last 깊이(depth). 0은 미들웨어 기본값(keep last 1)입니다",
    ),
    ("*", "reliability", "reliable(원본 데모처럼) 또는 best-effort"),
    ("copies", "publish", "콜백이 돌기 전에 메시지 N개를 잇달아 발행합니다 (뒤처진 구독)"),
    ("copies", "depth", "퍼블리셔와 모든 구독의 keep-last 깊이(depth)"),
    ("copies", "late", "발행한 뒤에야 구독을 만듭니다: 늦게 온 구독(late joiner)"),
    ("copies", "best_effort_publisher", "구독은 reliable인 채로 퍼블리셔만 best effort로: 호환되지 않는 QoS"),
    (
        "copies",
        "volatile_publisher",
        "구독은 --durability 그대로 두고 퍼블리셔만 volatile로: 구독이 transient local이면 호환되지 않는 QoS",
    ),
    (
        "*",
        "durability",
        "volatile(원본 데모처럼) 또는 transient-local: 퍼블리셔가 마지막 N개를 간직했다가 늦게 온 구독에게 줍니다",
    ),
    (
        "*",
        "distro",
        "릴리스마다 다른 곳에서 따를 rclcpp 규칙: humble(IPC에서 transient local을 거절), jazzy, rolling",
    ),
    (
        "*",
        "transport",
        "프로세스 사이로 메시지를 보내는 길: 소켓(socket), 공유 메모리(shm), 또는 ROS 2처럼 Cyclone DDS(dds) \
         [기본값: socket, RMW_IMPLEMENTATION=rmw_cyclonedds_cpp이면 dds]",
    ),
    (
        "*",
        "format",
        "side: 메시지마다 한 줄, 복사를 강조; classic: 원본 데모와 똑같은 줄; json: 이벤트마다 JSON 한 줄. 줄은 COLUMNS가 있으면 그 폭에, 없으면 터미널 폭에 맞춥니다. 파이프로 보내면 줄을 나누지 않습니다(grep과 diff를 위해 행마다 한 줄)",
    ),
    ("*", "diagram", "실행을 시퀀스 다이어그램으로도 그려 이 SVG 파일에 씁니다"),
    ("*", "stable", "pid와 주소를 처음 나온 순서대로 이름표(pid#1, @1, @2...)로 찍습니다"),
    (
        "node",
        "name",
        "어느 노드인지: producer, consumer (two-node), pipe1, pipe2 (cyclic), camera_node, watermark_node, image_view_node (image-pipeline)",
    ),
    ("*", "source", "프레임을 어디서 얻나: auto(카메라 0, 없으면 합성 카메라), camera, camera:N, synthetic, 또는 동영상 파일"),
    ("*", "size", "카메라에 요청하는 프레임 크기이자 합성 카메라의 크기"),
    (
        "*",
        "fps",
        "합성 카메라와 동영상 파일의 초당 프레임. 0이면 파이프라인이 가는 만큼 빨리 (카메라는 자기 속도대로)",
    ),
    ("*", "show", "프레임을 보여 줄 곳: auto, window(opencv 기능으로 빌드했을 때), terminal, png:폴더, none"),
    ("*", "text_scale", "프레임에 쓰는 글자 크기: 1이 원본 데모의 크기, 2부터 4는 읽기 쉽습니다"),
    ("*", "viewers", "이미지 뷰어의 수: 1 (image_pipeline_all_in_one) 또는 2 (image_pipeline_with_two_image_view)"),
    (
        "*",
        "viewer_callback",
        "뷰어 콜백이 받는 것. 원본 데모의 image_view_node가 버전마다 받은 것: unique(std::unique_ptr, demos 0.33.9부터, PR #755: \
         뷰어 둘 가운데 하나는 복사본을 받음), shared(ConstSharedPtr, Humble부터 Jazzy의 demos 0.33.8까지: 복사 없음), \
         shared-ptr(const SharedPtr, Ardent부터 Galactic까지: 소유 구독이라 복사 한 번). 그리고 loaned(미들웨어가 둔 자리의 메시지를 읽기 전용으로 봄)",
    ),
    (
        "node",
        "viewer_callback",
        "image_view_node의 콜백이 받는 것: unique, shared, shared-ptr, 또는 loaned(메시지가 도착한 자리를 읽기 전용으로 봄: --transport shm이면 다른 프로세스의 메모리)",
    ),
    (
        "image-pipeline",
        "transport",
        "다른 프로세스의 뷰어(`ipc-lab node image_view_node`)로 프레임을 보내는 길: 소켓(socket) 또는 공유 메모리(shm)",
    ),
    (
        "*",
        "loan",
        "카메라와 워터마크가 빌린 메시지(loaned message)를 발행합니다 (borrow_loaned_message, 채우기, publish): \
         --transport shm이면 다른 프로세스의 뷰어가 그 자리에서 읽습니다",
    ),
    (
        "node",
        "loan",
        "producer, camera_node, watermark_node: 빌린 메시지(loaned message)를 발행합니다 (borrow_loaned_message, 채우기, publish). \
         consumer: 받은 메시지를 도착한 자리에서 읽기 전용으로 봅니다(Loaned<Int32>). --transport shm이 필요합니다",
    ),
    (
        "two-node",
        "loan",
        "producer가 빌린 메시지(loaned message)를 발행하고 (borrow_loaned_message, 값 쓰기, publish), consumer는 그것을 \
         도착한 자리에서 읽기 전용으로 봅니다(Loaned<Int32>). --transport shm이 필요합니다",
    ),
    ("cyclic", "loan", "two-node에서만 씁니다: cyclic의 파이프는 받은 메시지를 고쳐서 다시 보냅니다"),
    ("*", "frames", "프레임 N개 뒤에 멈춥니다 [기본값: 원본 데모처럼 Ctrl-C, ESC, q까지]"),
    ("echo", "topic", "토픽. 예: `number`"),
    ("echo", "raw", "메시지마다 CDR 바이트를 16진수로 한 줄씩 찍습니다"),
    ("ps", "json", "프로세스마다 JSON 객체 한 줄"),
    ("lesson", "lesson", "강의의 번호나 이름. 예: 3, two-node [기본값: 강의 목록]"),
    ("lesson", "answers", "연습 문제의 답도 보여 줍니다 (먼저 스스로 풀어 보도록 처음에는 감춥니다)"),
    ("bench", "sizes", "메시지 크기(바이트)를 쉼표로 나눠서; KiB, MiB도 됩니다 [기본값: 64,4KiB,64KiB,921600,6220800]"),
    ("bench", "pipeline_sizes", "이미지 파이프라인의 프레임 크기, 너비x높이를 쉼표로 나눠서 [기본값: 640x480,1920x1080]"),
    ("bench", "quick", "1분쯤 대신 몇 초만 잽니다"),
    (
        "bench",
        "camera_write",
        "카메라가 프레임을 쓰듯, 잰 hop마다 바로 앞에서 다른 메모리에 이만큼 씁니다(재는 시간에는 넣지 않음). 그러면 모든 크기의 hop이 캐시(cache)가 비슷하게 비워진 상태에서 시작합니다",
    ),
    ("bench", "json", "표 대신 경로와 크기마다 JSON 객체 한 줄"),
    ("bench", "plot", "크기에 따른 지연 시간의 로그-로그 그래프도 이 SVG 파일에 씁니다"),
    (
        "copies",
        "spec",
        "추가하는 순서대로의 구독: U(UniquePtr), S(ConstSharedPtr), R(const T&), P(SharedPtr); 뒤에 /S나 /U를 붙이면 그 구독의 intra_process_buffer_type(U/S)",
    ),
    ("copies", "inter", "프로세스 내 통신 관리자 밖의 구독자(IPC 끔)를 하나 더합니다. 다른 프로세스를 대신합니다"),
    (
        "copies",
        "ignore_local_publications",
        "구독에 rclcpp의 ignore_local_publications를 줍니다: --inter와 함께면 미들웨어의 복사본을 받아서 버리는 일이 없어집니다",
    ),
    (
        "copies",
        "format",
        "table: 누가 원본을, 누가 복사본을 받았는지의 표; json: 트레이스 이벤트마다 JSON 한 줄. 줄은 COLUMNS가 있으면 그 폭에, 없으면 터미널 폭에 맞춥니다. 파이프로 보내면 줄을 나누지 않습니다",
    ),
    ("copies", "stable", "pid와 주소를 이름표로만 찍습니다"),
];

/// The template of a Korean help page: clap's, with its one English heading translated.
const TEMPLATE: &str = "{before-help}{about-with-newline}\n사용법: {usage}\n\n{all-args}{after-help}";

/// The command tree in `lang`: clap's as written for English, the Korean text for Korean.
pub fn command(lang: Lang) -> Command {
    let mut command = Cli::command();
    if lang == Lang::Ko {
        // Built first, so that the help flags, the help subcommand and the global flags
        // exist in every subcommand and can be given their Korean words too.
        command.build();
        command = localize(command, "");
    }
    command
}

/// The Korean about of a subcommand (`""` is the program itself).
pub fn about(name: &str) -> Option<&'static str> {
    ABOUT.iter().find(|(n, _)| *n == name).map(|(_, about)| *about)
}

/// The Korean help of argument `id` in subcommand `sub`.
pub fn arg_help(sub: &str, id: &str) -> Option<&'static str> {
    let find = |s: &str| ARGS.iter().find(|(c, a, _)| *c == s && *a == id).map(|(_, _, help)| *help);
    find(sub).or_else(|| find("*"))
}

fn localize(mut command: Command, name: &str) -> Command {
    if let Some(about) = about(name) {
        command = command.about(about).long_about(None);
    }
    // clap's usage line, with its placeholder for the options in Korean.
    let usage = command.render_usage().to_string();
    let usage = usage.trim_start_matches("Usage: ").replace("[OPTIONS]", "[옵션]").replace("<COMMAND>", "<명령>");
    command = command
        .help_template(TEMPLATE)
        .override_usage(usage)
        .subcommand_help_heading("명령")
        .subcommand_value_name("명령");
    let ids: Vec<String> = command.get_arguments().map(|a| a.get_id().to_string()).collect();
    for id in ids {
        command = command.mut_arg(&id, |arg| localize_arg(arg, name));
    }
    let subs: Vec<String> = command.get_subcommands().map(|c| c.get_name().to_string()).collect();
    for sub in subs {
        command = command.mut_subcommand(&sub, |c| localize(c, &sub));
    }
    command
}

/// One argument's help in Korean, with clap's bracketed notes written in Korean too.
fn localize_arg(arg: Arg, sub: &str) -> Arg {
    let heading = if arg.is_positional() { "인자" } else { "옵션" };
    let Some(help) = arg_help(sub, arg.get_id().as_str()) else { return arg.help_heading(heading) };
    let mut text = help.to_string();
    let possible: Vec<String> =
        arg.get_possible_values().iter().filter(|v| !v.is_hide_set()).map(|v| v.get_name().to_string()).collect();
    let defaults: Vec<String> = arg.get_default_values().iter().map(|v| v.to_string_lossy().into_owned()).collect();
    if let Some(env) = arg.get_env() {
        text.push_str(&format!(" [환경 변수: {}]", env.to_string_lossy()));
    }
    if !defaults.is_empty() && !arg.is_hide_default_value_set() && arg.get_action().takes_values() {
        text.push_str(&format!(" [기본값: {}]", defaults.join(", ")));
    }
    if !possible.is_empty() && arg.get_action().takes_values() {
        text.push_str(&format!(" [가능한 값: {}]", possible.join(", ")));
    }
    arg.help(text)
        .long_help(None)
        .help_heading(heading)
        .hide_env(true)
        .hide_default_value(true)
        .hide_possible_values(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every command and argument a learner can see has Korean help: a new flag written
    /// only in English fails here.
    #[test]
    fn every_visible_command_and_argument_has_korean_help() {
        let mut missing = Vec::new();
        let mut root = Cli::command();
        root.build();
        let mut commands: Vec<(String, &Command)> = vec![(String::new(), &root)];
        commands.extend(root.get_subcommands().filter(|c| !c.is_hide_set()).map(|c| (c.get_name().to_string(), c)));
        for (name, command) in commands {
            if about(&name).is_none() {
                missing.push(format!("the about of '{name}'"));
            }
            for arg in command.get_arguments().filter(|a| !a.is_hide_set()) {
                if arg_help(&name, arg.get_id().as_str()).is_none() {
                    missing.push(format!("{name} {}", arg.get_id()));
                }
            }
        }
        assert!(missing.is_empty(), "no Korean help for: {}", missing.join(", "));
    }

    #[test]
    fn korean_help_has_no_english_headings_or_notes() {
        let mut root = command(Lang::Ko);
        let mut pages = vec![root.render_help().to_string()];
        for sub in ["two-node", "copies", "image-pipeline", "echo", "bench"] {
            pages.push(root.find_subcommand_mut(sub).expect("a subcommand").render_help().to_string());
        }
        for page in &pages {
            for english in [
                "Usage:",
                "[OPTIONS]",
                "Options:",
                "Arguments:",
                "Commands:",
                "[default:",
                "[possible values:",
                "Print help",
            ] {
                assert!(!page.contains(english), "{english} in:\n{page}");
            }
        }
        assert!(pages[1].contains("[가능한 값: on, off, both]"), "{}", pages[1]);
        assert!(pages[0].contains("[환경 변수: ROS_DOMAIN_ID]"), "{}", pages[0]);
    }
}
