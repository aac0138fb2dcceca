using System;
using System.Globalization;
using System.IO;
using HeadTracker.Demo.Rendering;

namespace HeadTracker.Demo;

internal static class Program
{
    private const string Usage = """
        headtracker-demo: shows what the tracker sees: the frame, the head mask, face box, keypoints,
        head centre and pose axes, with a HUD of rates and per-stage timings.

        Usage: headtracker-demo [source] [options]
          source (one of; default: camera 0 when present, else the bundled sample video)
            --camera N        webcam N
            --video FILE      a video file
            --images DIR      a folder of .jpg/.png images
          tracking
            --model FILE      HeadTracker model, ONNX (default: models/headtracker-default.onnx)
            --detector FILE   BlazeFace ONNX for two-stage mode (default: the fetched one)
            --no-detector     the model sees the whole frame
            --fov DEGREES     the camera's horizontal field of view (default: 60)
            --filter NAME     pose smoothing: oneeuro (default), ewma or none
            --results FILE    record every result as a JSON line
            --udp HOST:PORT   send the pose to opentrack over UDP
          display
            --headless        render offscreen through EGL into files (the default with no display)
            --out DIR         where headless frames go (default: out/demo)
            --video-out FILE  also write the rendered frames as a video (.avi: MJPG, .mp4: mp4v)
            --frames N        stop after N frames (default: all of a file, 300 of a camera headless)
            --width W         width of the picture (default: 960, or the frame width if smaller)
            --screenshot FILE window: save the last picture shown before exit as PNG
            --verbose         print stack traces of unexpected errors
            --help            this text

        Keys in the window: R recentre, F filtered/raw pose, M mask, K keypoints, N keypoint names,
        Space pause, Esc quit.
        """;

    public static int Main(string[] args)
    {
        DemoOptions options;
        try
        {
            options = DemoOptions.Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"headtracker-demo: {e.Message} (see --help)");
            return 2;
        }

        if (options.Help)
        {
            Console.WriteLine(Usage);
            return 0;
        }

        try
        {
            if (!options.Headless && !GlfwWindow.DisplayAvailable)
            {
                Console.WriteLine("No display: rendering headless (EGL) to files instead of a window.");
                options = options with { Headless = true };
            }

            return options.Headless ? HeadlessRunner.Run(options, Console.Out) : WindowRunner.Run(options, Console.Out);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or InvalidDataException or IOException or InvalidOperationException)
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

    public bool Help { get; init; }

    /// <exception cref="ArgumentException">An unknown option, a missing or malformed value, or two
    /// sources; the message names the option.</exception>
    public static DemoOptions Parse(string[] args)
    {
        var o = new DemoOptions();
        int sources = 0;
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            string Value()
            {
                if (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    throw new ArgumentException($"option {arg} needs a value");
                }

                return args[++i];
            }

            int Positive()
            {
                string v = Value();
                if (!int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) || n <= 0)
                {
                    throw new ArgumentException($"option {arg} needs a positive whole number, got '{v}'");
                }

                return n;
            }

            switch (arg)
            {
                case "--camera":
                    string c = Value();
                    if (!int.TryParse(c, NumberStyles.Integer, CultureInfo.InvariantCulture, out int index) || index < 0)
                    {
                        throw new ArgumentException($"option --camera needs a camera index (0, 1, ...), got '{c}'");
                    }

                    o = o with { Camera = index };
                    sources++;
                    break;
                case "--video": o = o with { Video = Value() }; sources++; break;
                case "--images": o = o with { Images = Value() }; sources++; break;
                case "--model": o = o with { Model = Value() }; break;
                case "--detector": o = o with { Detector = Value() }; break;
                case "--no-detector": o = o with { NoDetector = true }; break;
                case "--fov":
                    string f = Value();
                    if (!double.TryParse(f, NumberStyles.Float, CultureInfo.InvariantCulture, out double fov) || !(fov is > 1 and < 179))
                    {
                        throw new ArgumentException($"option --fov needs degrees between 1 and 179, got '{f}'");
                    }

                    o = o with { Fov = fov };
                    break;
                case "--filter":
                    o = o with
                    {
                        Filter = Value() switch
                        {
                            "oneeuro" => Runtime.FilterKind.OneEuro,
                            "ewma" => Runtime.FilterKind.Ewma,
                            "none" => Runtime.FilterKind.None,
                            string other => throw new ArgumentException($"option --filter takes oneeuro, ewma or none, got '{other}'"),
                        },
                    };
                    break;
                case "--results": o = o with { Results = Value() }; break;
                case "--udp": o = o with { Udp = HostPort(Value()) }; break;
                case "--headless": o = o with { Headless = true }; break;
                case "--out": o = o with { Out = Value() }; break;
                case "--video-out": o = o with { VideoOut = Value() }; break;
                case "--frames": o = o with { Frames = Positive() }; break;
                case "--width": o = o with { Width = Positive() }; break;
                case "--screenshot": o = o with { Screenshot = Value() }; break;
                case "--verbose": o = o with { Verbose = true }; break;
                case "--help" or "-h": o = o with { Help = true }; break;
                default: throw new ArgumentException($"unknown option '{arg}'");
            }
        }

        if (sources > 1)
        {
            throw new ArgumentException("give one source: --camera, --video or --images");
        }

        if (o.NoDetector && o.Detector != null)
        {
            throw new ArgumentException("give --detector or --no-detector, not both");
        }

        return o;
    }

    private static (string, int) HostPort(string value)
    {
        int colon = value.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(value.AsSpan(colon + 1), NumberStyles.Integer, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
        {
            throw new ArgumentException($"option --udp needs HOST:PORT (e.g. 127.0.0.1:4242), got '{value}'");
        }

        return (value[..colon], port);
    }
}
