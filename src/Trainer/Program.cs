using System;
using System.IO;
using System.Linq;
using HeadTracker.Trainer.Onnx;

namespace HeadTracker.Trainer;

internal static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
        {
            Console.WriteLine("usage: headtracker-train inspect FILE.onnx [--nodes]");
            return args.Length == 0 ? 2 : 0;
        }

        try
        {
            switch (args[0])
            {
                case "inspect":
                    if (args.Length < 2)
                    {
                        throw new ArgumentException("inspect needs an ONNX file");
                    }

                    OnnxInspector.Print(args[1], Console.Out, nodes: args.Contains("--nodes"));
                    return 0;
                default:
                    throw new ArgumentException($"unknown command '{args[0]}'");
            }
        }
        catch (Exception e) when (e is ArgumentException or IOException or InvalidDataException)
        {
            Console.Error.WriteLine($"headtracker-train: {e.Message}");
            return 2;
        }
    }
}
