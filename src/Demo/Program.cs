using System;
using System.Globalization;
using System.IO;
using HeadTracker.Runtime.Capture;
using HeadTracker.Runtime.Detection;

namespace HeadTracker.Demo;

internal static class Program
{
    private const string Usage = """
        headtracker-demo: shows what the tracker sees, frame by frame.

        Usage: headtracker-demo [source] [options]
          source (one of; default: camera 0 when present, else the bundled sample photos)
            --camera N        webcam N
            --video FILE      a video file
            --images DIR      a folder of .jpg/.png images
          options
            --model FILE      face model, ONNX (default: the fetched BlazeFace front model)
            --headless        render offscreen through EGL (the default with no display)
            --out DIR         where headless frames go (default: out/demo)
            --frames N        stop after N frames (default: every frame of a file source, 300 of a camera)
            --width W         width of the rendered frames (default: 960, or the frame width if smaller)
            --verbose         print stack traces of unexpected errors
            --help            this text

        Today the demo runs the BlazeFace detector stage of the pipeline and draws its face boxes and
        6 keypoints; the full tracker (pose, mask, smoothing) and the window replace it as they land.
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
            return HeadlessDemo.Run(options, Console.Out);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or InvalidDataException or IOException)
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

    public bool Headless { get; init; }

    public string Out { get; init; } = Path.Combine("out", "demo");

    public int? Frames { get; init; }

    public int Width { get; init; } = 960;

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
                case "--headless": o = o with { Headless = true }; break;
                case "--out": o = o with { Out = Value() }; break;
                case "--frames": o = o with { Frames = Positive() }; break;
                case "--width": o = o with { Width = Positive() }; break;
                case "--verbose": o = o with { Verbose = true }; break;
                case "--help" or "-h": o = o with { Help = true }; break;
                default: throw new ArgumentException($"unknown option '{arg}'");
            }
        }

        if (sources > 1)
        {
            throw new ArgumentException("give one source: --camera, --video or --images");
        }

        return o;
    }
}
