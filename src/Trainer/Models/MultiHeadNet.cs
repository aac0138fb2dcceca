using System.Collections.Generic;
using System.IO;
using System.Linq;
using HeadTracking.Runtime.Contract;
using HeadTracking.Runtime.Models;
using HeadTracking.Trainer.Models.Backbones;
using HeadTracking.Trainer.Models.Heads;
using HeadTracking.Trainer.Models.Heads.Kinds;
using HeadTracking.Trainer.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HeadTracking.Trainer.Models;

/// <summary>
/// A backbone and any combination of heads, built from a <see cref="ModelConfig"/>. forward()
/// returns one tensor per head, in the config's order; state_dict names are "backbone.*" and
/// "heads.{name}.*", and with <see cref="ModelConfig.KeepKeypoints"/> "kept.*" (the heads that start
/// pretrained with BlazeFace's backbone read <see cref="KeptKeypointPath"/>'s feature maps), and with
/// <see cref="ModelConfig.GuideKeypoints"/> "guide.*" (<see cref="Guide"/>: trained, never exported).
/// </summary>
internal sealed class MultiHeadNet : Module<Tensor, Tensor[]>, IOnnxExportable
{
    private readonly Backbone backbone;
    private readonly ModuleDict<Head> heads;
    private readonly KeptKeypointPath? kept;
    private readonly Head? guide;

    public MultiHeadNet(ModelConfig config)
        : base(nameof(MultiHeadNet))
    {
        config.Validate("model config");
        Config = config;
        backbone = BackboneRegistry.Create(config.Backbone, config.InputSize);
        heads = new ModuleDict<Head>();
        var trunk = new TrunkSize(config.TrunkReduced, config.TrunkHidden);
        foreach (HeadConfig h in config.Heads)
        {
            heads.Add(h.OutputName, CreateHead(h, backbone, trunk));
        }

        if (config.KeepKeypoints)
        {
            // The heads that start pretrained with BlazeFace's backbone are the ones the path feeds.
            kept = heads.values().Any(h => h.PartOfBody)
                ? new KeptKeypointPath(config.KeptAfterStride)
                : throw new InvalidDataException("model config: keep_keypoints (--keep-keypoints) keeps BlazeFace's own keypoint path: it needs the blazeface backbone at 128x128 and a keypoints head with the anchor locator (--point-head keypoints=anchor) for BlazeFace's six keypoints");
            if (config.GuideKeypoints)
            {
                guide = CreateHead(config.Heads.Single(h => heads[h.OutputName].PartOfBody), backbone, trunk);
            }
        }

        RegisterComponents();
    }

    public ModelConfig Config { get; }

    public Backbone Backbone => backbone;

    public IReadOnlyList<Head> Heads => [.. heads.values()];

    /// <summary>The keypoint path kept as imported, or null (<see cref="ModelConfig.KeepKeypoints"/>).</summary>
    public KeptKeypointPath? Kept => kept;

    /// <summary>With <see cref="ModelConfig.GuideKeypoints"/>: a second keypoint head on the
    /// backbone's own blocks, built and started like the kept one, which learns from the keypoint
    /// labels (<see cref="ForwardWithGuide"/>) so that those blocks, which the other heads read, keep
    /// learning where the face's points are; it is not part of <see cref="forward"/> or the export.
    /// Null otherwise.</summary>
    public Head? Guide => guide;

    /// <summary>Parameters that never train: with <see cref="ModelConfig.KeepKeypoints"/>, the kept
    /// path, the backbone's layers it shares, and the heads that read it; otherwise none.</summary>
    public IReadOnlyList<Parameter> KeptParameters => kept == null || backbone is not BlazeFaceBackbone blaze
        ? []
        : [.. kept.SharedParameters(blaze), .. kept.parameters(), .. heads.values().Where(ReadsKeptPath).SelectMany(h => h.parameters())];

    /// <summary>The exported outputs, one per head in the config's order.</summary>
    public override Tensor[] forward(Tensor x) => Run(x, withGuide: false);

    /// <summary>What training's loss needs: <see cref="forward"/>'s outputs, then <see cref="Guide"/>'s
    /// (the keypoints it puts on the backbone's own blocks) when there is one. Where
    /// <paramref name="headsOnly"/> ([N] bool) is true the heads read the backbone's features cut
    /// from the gradient, so that item's losses train the heads only; the guide, which is there to
    /// teach the backbone, reads them uncut.</summary>
    public Tensor[] ForwardWithGuide(Tensor x, Tensor? headsOnly = null) => Run(x, withGuide: guide != null, headsOnly);

    private Tensor[] Run(Tensor x, bool withGuide, Tensor? headsOnly = null)
    {
        using var scope = NewDisposeScope();
        Tensor[] features = backbone.forward(x);
        Tensor[] toHeads = headsOnly is null ? features : [.. features.Select(f => where(headsOnly.view(-1, 1, 1, 1), f.detach(), f))];
        Tensor[]? keptFeatures = kept?.forward(features);
        Tensor[] outputs = [.. heads.values().Select(h => h.forward(Inputs(h, x, ReadsKeptPath(h) ? keptFeatures! : toHeads)))];
        if (withGuide)
        {
            outputs = [.. outputs, guide!.forward(Inputs(guide, x, features))];
        }

        foreach (Tensor o in outputs)
        {
            o.MoveToOuterDisposeScope();
        }

        return outputs;
    }

    public string[] EmitOnnx(OnnxGraphBuilder g, string[] inputs)
    {
        string[] features = g.Emit(backbone, inputs, nameof(backbone));
        string[]? keptFeatures = kept == null ? null : g.Emit(kept, features, nameof(kept));
        return [.. heads.keys().Select(k => g.Emit(heads[k], Inputs(heads[k], inputs[0], ReadsKeptPath(heads[k]) ? keptFeatures! : features), $"{nameof(heads)}.{k}").Single())];
    }

    /// <summary>The manifest this model's export carries.</summary>
    public ModelManifest Manifest()
    {
        Preprocessing p = backbone.Preprocessing;
        return new ModelManifest
        {
            Name = Config.Name,
            Architecture = $"{backbone.ArchitectureName}+{string.Join("+", Config.Heads.Select(h => h.Kind))}",
            Input = new ManifestInput
            {
                Name = "input",
                Shape = [-1, 3, p.Height, p.Width],
                Layout = "NCHW",
                ColorOrder = "RGB",
                Scale = p.Scale,
                Mean = p.Mean,
                Std = p.Std,
                Resize = InputTransform.Letterbox,
                Interpolation = InputTransform.Area,
            },
            Outputs = [.. heads.values().Select(h => h.Describe())],
        };
    }

    private static T[] Inputs<T>(Head h, T input, T[] features) => h.TakesInput ? [input, .. features] : features;

    private bool ReadsKeptPath(Head h) => kept != null && h.PartOfBody;

    private static Head CreateHead(HeadConfig h, Backbone backbone, TrunkSize trunk) => HeadKinds.Of(h.Kind).Create(h, backbone, trunk);
}
