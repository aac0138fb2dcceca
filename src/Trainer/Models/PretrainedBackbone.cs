using System.Collections.Generic;
using System.Linq;
using HeadTracking.Trainer.Models.Backbones;
using HeadTracking.Trainer.Models.Heads;
using HeadTracking.Trainer.Onnx;

namespace HeadTracking.Trainer.Models;

/// <summary>Loads pretrained backbone weights from an ONNX file into a model's backbone.</summary>
internal static class PretrainedBackbone
{
    /// <summary>
    /// For blazeface: MediaPipe's BlazeFace ONNX (its TensorFlow layer names). For the others: an
    /// ONNX file whose initializers carry torchvision's names ("conv1.weight", "layer1.0.bn1.running_mean",
    /// ...); tensors the backbone lacks, like a classifier, are ignored. Every backbone tensor must
    /// be found with the right shape.
    /// </summary>
    /// <exception cref="System.IO.InvalidDataException">A backbone tensor is missing or misshapen.</exception>
    public static ImportReport Load(MultiHeadNet net, string path)
    {
        Dictionary<string, string> map = net.Backbone is BlazeFaceBackbone
            ? BlazeFaceWeights.NameMap(prefix: "", heads: false)
            : net.Backbone.state_dict().Keys.ToDictionary(k => k, k => k);
        return OnnxWeights.Load(net.Backbone, path, map, strict: true);
    }

    /// <summary>Starts anchor heads (<see cref="AnchorPointHead"/>) from BlazeFace's detector
    /// layers in the same file, where they predict what BlazeFace does; one line each, for the log.</summary>
    public static IEnumerable<string> LoadAnchorHeads(MultiHeadNet net, string path)
    {
        AnchorPointHead[] heads = [.. net.Heads.OfType<AnchorPointHead>()];
        if (heads.Length == 0 || net.Backbone is not BlazeFaceBackbone)
        {
            return heads.Select(h => $"{h.OutputName}: not on BlazeFace's backbone, started at random");
        }

        Dictionary<string, OnnxTensor> file = OnnxWeights.Read(path);
        Dictionary<string, string> names = BlazeFaceWeights.NameMap(prefix: "");
        return [.. heads.Select(h => h.LoadBlazeFace(file, names))];
    }
}
