using System;
using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using System.Linq;
using HeadTracking.Trainer.Models;
using HeadTracking.Trainer.Models.Backbones;
using HeadTracking.Trainer.Training;
using static HeadTracking.Trainer.Cli.Options;

namespace HeadTracking.Trainer.Cli.Commands;

/// <summary><c>init</c>: a new model as a checkpoint folder.</summary>
internal static class InitCommand
{
    public static Command Create()
    {
        var backbone = Text("--backbone", $"Backbone: {string.Join(", ", BackboneRegistry.Names)}.", required: true);
        var heads = Text("--heads", $"Comma-separated heads: {string.Join(", ", ModelConfig.HeadKinds)}.", required: true);
        var output = Text("--out", "Checkpoint folder to write.", required: true);
        var size = Int("--size", "Square input size (0: the backbone's default).", 0, 0, 1024);
        var weights = Text("--weights", "Pretrained backbone weights: MediaPipe's BlazeFace ONNX for blazeface, or an ONNX file with torchvision's names.");
        var classes = Text("--classes", "Class names for a class head, comma-separated.");
        var multiLabel = Flag("--multi-label", "The class head is multi-label.");
        var name = Text("--name", "Model name for the manifest.");
        var seed = Int("--seed", "Random seed.", 0);
        var maskStride = Int("--mask-stride", "Mask head: the finest feature stride it decodes to (0: the backbone's finest).", 0, 0, 64);
        var maskWidth = Int("--mask-width", "Mask head: channels of its decoder.", 32, 1, 1024);
        var pointHead = Text("--point-head", "center and keypoints heads: regress, heatmap or anchor, one for both or per head kind (keypoints=anchor); default regress.");
        var c = new Command("init", "A new model as a checkpoint folder, optionally with pretrained backbone weights.")
            { backbone, heads, output, size, weights, classes, multiLabel, name, seed, maskStride, maskWidth, pointHead };
        c.SetAction(r => Init(r.Get(backbone), CliArgs.List(r.Get(heads)), r.Get(output), r.GetValue(size), r.GetValue(weights),
            r.GetValue(classes) is { } cl ? CliArgs.List(cl) : null, r.GetValue(multiLabel), r.GetValue(name) ?? "headtracker", r.GetValue(seed),
            r.GetValue(maskStride) is > 0 and var ms ? ms : null, r.GetValue(maskWidth), r.GetValue(pointHead)));
        return c;
    }

    private static int Init(string backbone, string[] heads, string output, int size, string? weights, string[]? classes, bool multiLabel, string name, int seed, int? maskStride, int maskWidth, string? pointHead)
    {
        if (!BackboneRegistry.Names.Contains(backbone))
        {
            throw new ArgumentException($"option --backbone: '{backbone}' is not one of: {string.Join(", ", BackboneRegistry.Names)}");
        }

        Dictionary<string, string> locators = pointHead == null ? [] : TrainOptionSet.LocatorsOf(pointHead);
        var config = new ModelConfig
        {
            Name = name,
            Backbone = backbone,
            InputSize = size,
            Heads = [.. heads.Select(h => HeadConfig.Of(h, classes, multiLabel, maskStride, maskWidth, locators.GetValueOrDefault(h)))],
        };
        config.Validate("options --heads/--classes");
        TorchSharp.torch.manual_seed(seed);
        using var net = new MultiHeadNet(config);
        if (weights != null)
        {
            PretrainedBackbone.Log(Console.Out, weights, PretrainedBackbone.Load(net, weights));
        }

        Checkpoint.Save(net, output);
        long parameters = net.parameters().Sum(p => p.numel());
        Console.WriteLine($"Wrote {Path.GetFullPath(output)}: {config.Backbone} {net.Backbone.Preprocessing.Height}x{net.Backbone.Preprocessing.Width}, heads {string.Join(", ", heads)}, {parameters:N0} parameters");
        return 0;
    }
}
