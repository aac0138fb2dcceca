using System;
using System.Globalization;
using System.CommandLine;
using System.IO;
using System.Linq;
using HeadTracking.Demo.Rendering;
using static HeadTracking.OptionValues;

namespace HeadTracking.Demo;

internal static class Program
{
    private const string Keys = "Keys in the window: R recentre, F filtered/raw pose, M mask, K keypoints, N keypoint names, Space pause, Esc quit.";

    public static int Main(string[] args)
    {
        ParseResult parsed = Commands().Parse(args);
        if (parsed.Errors.Count > 0)
        {
            Console.Error.WriteLine($"headtracker-demo: {OneLine(parsed.Errors[0].Message)} (see --help)");
            return 2;
        }

        return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }

    private static string OneLine(string message) => string.Join(" ", message.Split(['\n', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries));

    /// <summary>The command line: options only (one source at most); --help lists them.</summary>
    internal static RootCommand Commands()
    {
        var camera = new Option<int?>("--camera") { Description = "Source: webcam N (default: camera 0 when present, else the bundled real-face clip).", HelpName = "N" };
        camera.Validators.Add(r =>
        {
            if (TryValue(r, "a camera index (0, 1, ...)", out int? index) && index is < 0)
            {
                r.AddError("option --camera needs a camera index (0, 1, ...)");
            }
        });
        var video = Text("--video", "Source: a video file.", "FILE");
        var images = Text("--images", "Source: a folder of .jpg/.png images.", "DIR");
        var model = Text("--model", "HeadTracker model, ONNX (default: models/headtracker-default.onnx).", "FILE");
        var detector = Text("--detector", "BlazeFace ONNX for two-stage mode (default: the fetched one).", "FILE");
        var noDetector = new Option<bool>("--no-detector") { Description = "The model sees the whole frame." };
        var fov = new Option<double>("--fov") { Description = "The camera's horizontal field of view, degrees.", DefaultValueFactory = _ => 60, HelpName = "DEGREES" };
        fov.Validators.Add(r =>
        {
            if (TryValue(r, "degrees between 1 and 179", out double degrees) && !(degrees is > 1 and < 179))
            {
                r.AddError($"option --fov needs degrees between 1 and 179, got {degrees}");
            }
        });
        var filter = new Option<string>("--filter") { Description = "Pose smoothing: oneeuro, ewma or none.", DefaultValueFactory = _ => "oneeuro", HelpName = "NAME" };
        filter.AcceptOnlyFromAmong("oneeuro", "ewma", "none");
        var results = Text("--results", "Record every result as a JSON line.", "FILE");
        var udp = Text("--udp", "Send the pose to opentrack over UDP.", "HOST:PORT");
        udp.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string>() is { } v && HostPort(v) == null)
            {
                r.AddError($"option --udp needs HOST:PORT (e.g. 127.0.0.1:4242), got '{v}'");
            }
        });
        var headless = new Option<bool>("--headless") { Description = "Render offscreen through EGL into files (the default with no display)." };
        var output = new Option<string>("--out") { Description = "Where headless frames go.", DefaultValueFactory = _ => Path.Combine("out", "demo"), HelpName = "DIR" };
        var videoOut = Text("--video-out", "Also write the rendered frames as a video (.avi: MJPG, .mp4: mp4v).", "FILE");
        var frames = Positive("--frames", "Stop after N frames (default: all of a file, 300 of a camera headless).", null);
        var width = Positive("--width", "Width of the picture (never wider than the frame).", 960);
        var screenshot = Text("--screenshot", "Window: save the last picture shown before exit as PNG.", "FILE");
        var verbose = new Option<bool>("--verbose") { Description = "Print stack traces of unexpected errors." };
        var root = new RootCommand(
            "headtracker-demo: shows what the tracker sees: the frame, the head mask, face box, keypoints, head centre and pose axes, " +
            "with a HUD of rates and per-stage timings, in a window or headless into PNG frames. " + Keys)
        {
            camera, video, images, model, detector, noDetector, fov, filter, results, udp, headless, output, videoOut, frames, width, screenshot, verbose,
        };
        root.Validators.Add(r =>
        {
            int sources = new Option[] { camera, video, images }.Count(o => r.GetResult(o) != null);
            if (sources > 1)
            {
                r.AddError("give one source: --camera, --video or --images");
            }

            if (r.GetResult(noDetector) != null && r.GetResult(detector) != null)
            {
                r.AddError("give --detector or --no-detector, not both");
            }
        });
        root.SetAction(r => Run(new DemoOptions
        {
            Camera = r.GetValue(camera),
            Video = r.GetValue(video),
            Images = r.GetValue(images),
            Model = r.GetValue(model),
            Detector = r.GetValue(detector),
            NoDetector = r.GetValue(noDetector),
            Fov = r.GetValue(fov),
            Filter = r.GetValue(filter) switch { "ewma" => Runtime.FilterKind.Ewma, "none" => Runtime.FilterKind.None, _ => Runtime.FilterKind.OneEuro },
            Results = r.GetValue(results),
            Udp = r.GetValue(udp) is { } hostPort ? HostPort(hostPort) : null,
            Headless = r.GetValue(headless),
            Out = r.GetValue(output)!,
            VideoOut = r.GetValue(videoOut),
            Frames = r.GetValue(frames),
            Width = r.GetValue(width) ?? 960,
            Screenshot = r.GetValue(screenshot),
            Verbose = r.GetValue(verbose),
        }));
        return root;
    }

    private static int Run(DemoOptions options)
    {
        try
        {
            if (!options.Headless && !GlfwWindow.DisplayAvailable)
            {
                Console.WriteLine("No display: rendering headless (EGL) to files instead of a window.");
                options = options with { Headless = true };
            }

            return options.Headless ? HeadlessRunner.Run(options, Console.Out) : WindowRunner.Run(options, Console.Out);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or InvalidDataException or IOException or InvalidOperationException or ArgumentException)
        {
            Console.Error.WriteLine($"headtracker-demo: {e.Message}");
            return 2;
        }
        catch (Exception e) when (!options.Verbose)
        {
            Console.Error.WriteLine($"headtracker-demo: unexpected {e.GetType().Name}: {e.Message} (run with --verbose for details)");
            return 1;
        }
    }

    private static Option<string> Text(string name, string description, string helpName) =>
        new(name) { Description = description, HelpName = helpName };

    private static Option<int?> Positive(string name, string description, int? fallback)
    {
        var option = new Option<int?>(name) { Description = description, HelpName = "N" };
        if (fallback is { } f)
        {
            option.DefaultValueFactory = _ => f;
        }

        option.Validators.Add(r =>
        {
            if (TryValue(r, "a positive whole number", out int? n) && n is < 1)
            {
                r.AddError($"option {name} needs a positive whole number, got {n}");
            }
        });
        return option;
    }

    private static (string, int)? HostPort(string value)
    {
        int colon = value.LastIndexOf(':');
        return colon > 0 && int.TryParse(value.AsSpan(colon + 1), NumberStyles.Integer, CultureInfo.InvariantCulture, out int port) && port is >= 1 and <= 65535
            ? (value[..colon], port) : null;
    }
}

/// <summary>The demo's command line.</summary>
internal sealed record DemoOptions
{
    public int? Camera { get; init; }

    public string? Video { get; init; }

    public string? Images { get; init; }

    public string? Model { get; init; }

    public string? Detector { get; init; }

    public bool NoDetector { get; init; }

    public double Fov { get; init; } = 60;

    public Runtime.FilterKind Filter { get; init; } = Runtime.FilterKind.OneEuro;

    public string? Results { get; init; }

    public (string Host, int Port)? Udp { get; init; }

    public bool Headless { get; init; }

    public string Out { get; init; } = Path.Combine("out", "demo");

    public string? VideoOut { get; init; }

    public int? Frames { get; init; }

    public int Width { get; init; } = 960;

    public string? Screenshot { get; init; }

    public bool Verbose { get; init; }
}
