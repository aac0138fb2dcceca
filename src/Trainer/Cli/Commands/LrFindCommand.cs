using System;
using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using System.Linq;
using HeadTracking.Runtime.Contract;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Models;
using HeadTracking.Trainer.Training;
using OpenCvSharp;
using static HeadTracking.Trainer.Cli.Options;

namespace HeadTracking.Trainer.Cli.Commands;

/// <summary><c>lr-find</c>: the learning-rate finder.</summary>
internal static class LrFindCommand
{
    public static Command Create()
    {
        var set = new TrainOptionSet();
        var plot = Text("--plot", "PNG to draw the loss against the learning rate into (default lr-find.png).");
        var c = new Command("lr-find", "Learning-rate finder: exponential sweep, smoothed loss, suggested rate, plot.") { plot };
        set.AddTo(c);
        c.SetAction(r => LrFind(set.Read(r, outRequired: false), r.GetValue(plot) ?? "lr-find.png"));
        return c;
    }

    private static int LrFind(TrainRequest r, string plot)
    {
        (Dataset all, List<DataItem> train, List<DataItem> valid) = TrainRun.LoadData(r, Console.Out);
        ModelConfig config = TrainRun.Configure(r, all, train, Console.Out);
        string[] classes = config.Heads.FirstOrDefault(h => h.Kind == OutputKinds.Class)?.ClassNames ?? [];
        TorchSharp.torch.manual_seed(r.Options.Seed);
        using var model = new MultiHeadNet(config);
        if (r.Weights != "none" && (r.Weights != null || r.Arch == "blazeface"))
        {
            PretrainedBackbone.Load(model, r.Weights ?? ExternalData.Find(Path.Combine("blazeface", "face_detection_front_128x128_barracuda.onnx")));
        }

        var pre = model.Backbone.Preprocessing;
        using var learner = new Learner(model, new Batcher(train, config, pre, classes), new Batcher(valid, config, pre, classes), r.Options);
        (List<(double Lr, double Loss)> curve, double suggestion) = learner.LrFind();
        LinePlot.Write(plot, $"lr-find: suggested {suggestion:G2}", "learning rate (log)", "smoothed loss", [new("loss", new Scalar(200, 80, 0), curve)], logX: true, markX: suggestion);
        Console.WriteLine($"lr-find: {curve.Count} steps from {curve[0].Lr:G2} to {curve[^1].Lr:G2}; suggested learning rate {suggestion:G2} (steepest descent); plot {Path.GetFullPath(plot)}");
        return 0;
    }
}
