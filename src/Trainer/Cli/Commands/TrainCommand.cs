using System;
using System.CommandLine;
using HeadTracking.Trainer.Training;

namespace HeadTracking.Trainer.Cli.Commands;

/// <summary><c>train</c>: fine-tunes the fastai way and exports ONNX.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var set = new TrainOptionSet();
        var c = new Command("train",
            "Fine-tunes the fastai way (frozen epochs, then all layers with discriminative rates, one-cycle), checkpoints every epoch, " +
            "writes metrics.jsonl, losses.png, results.png and the ONNX model. --resume continues a stopped run.");
        set.AddTo(c);
        c.SetAction(r => TrainRun.Run(set.Read(r, outRequired: true), Console.Out));
        return c;
    }
}
